"""Grouping of interchangeable workloads, so one integer counts many of them.

Two workloads are interchangeable when swapping them changes neither feasibility nor cost:
same layout, replicas, copies, per-replica requests, allowed clusters, per-cluster costs,
current placement, team (when budgets exist) and cost cap. Swapping such workloads maps
solutions to solutions of equal cost, so a count per (group, cluster) loses nothing. Workloads
with per-workload side constraints a count cannot express (anti-affinity, spread over N
clusters, a divided workload's cost cap or current replicas) stay alone in their group.
"""

from dataclasses import dataclass

import numpy as np

from app.scheduling.optimizer.problem import BatchProblem, IntArray, Layout

_HASH_SEED = 0x5EED


def group_identical_rows(rows: IntArray) -> IntArray:
    """Group index per row: rows are in the same group iff they are equal.

    Rows are hashed by a random projection (wrapping int64 arithmetic), then every row is
    compared with its group's first row, so a hash collision can only split, never merge.
    """
    n = rows.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(_HASH_SEED)
    weights = rng.integers(1, 2**62, size=rows.shape[1], dtype=np.int64)
    with np.errstate(over="ignore"):
        hashes = (rows * weights).sum(axis=1)
    _, first, group = np.unique(hashes, return_index=True, return_inverse=True)
    representative = first[group]
    same = (rows == rows[representative]).all(axis=1)
    group = group.astype(np.int64)
    strays = np.flatnonzero(~same)
    group[strays] = group.max(initial=-1) + 1 + np.arange(len(strays))
    _, compact = np.unique(group, return_inverse=True)
    return np.asarray(compact, dtype=np.int64)


@dataclass(frozen=True)
class Groups:
    """Workloads partitioned into interchangeable groups.

    ``of`` [W] is each workload's group; ``members[g]`` its workloads in index order;
    ``first[g]`` the representative whose data stands for the group.
    """

    of: IntArray
    members: tuple[IntArray, ...]
    first: IntArray

    @property
    def size(self) -> IntArray:
        """Members per group."""
        return np.array([len(m) for m in self.members], dtype=np.int64)


def must_stay_alone(problem: BatchProblem) -> np.ndarray:
    """Workloads whose side constraints need a variable of their own."""
    alone = problem.layout == Layout.SPREAD
    if problem.anti_affinity.size:
        alone[problem.anti_affinity.ravel()] = True
    divided = problem.layout == Layout.DIVIDED
    if problem.max_hourly_cost is not None:
        alone |= (problem.max_hourly_cost >= 0) & (problem.layout != Layout.SINGLE)
    if problem.current is not None:
        alone |= divided & (problem.current.sum(axis=1) > 0)
    return np.asarray(alone)


def interchangeable_groups(problem: BatchProblem) -> Groups:
    """Partition the batch into groups of interchangeable workloads (see module docstring)."""
    n_w = problem.n_workloads
    forbidden = np.iinfo(np.int64).min
    columns = [
        problem.layout[:, None],
        problem.replicas[:, None],
        np.where(problem.layout == Layout.SINGLE, 0, problem.count)[:, None],
        problem.requests,
        np.where(problem.allowed, problem.effective_cost(), forbidden),
    ]
    if problem.current is not None:
        columns.append(problem.current)
    if problem.team_budget is not None and problem.team is not None:
        columns.append(problem.team[:, None])
    if problem.max_hourly_cost is not None:
        columns.append(problem.max_hourly_cost[:, None])
    alone = must_stay_alone(problem)
    columns.append(np.where(alone, np.arange(n_w), -1)[:, None])
    group = group_identical_rows(np.concatenate(columns, axis=1))
    order = np.argsort(group, kind="stable")
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    members = tuple(np.split(order, bounds)) if n_w else ()
    first = np.array([m[0] for m in members], dtype=np.int64)
    return Groups(of=group, members=members, first=first)
