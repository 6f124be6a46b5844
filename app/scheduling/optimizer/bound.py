"""The certified lower bound: LP capacity prices, then a Lagrangian bound over the full batch.

**What the bound is.** For capacity prices ``lam[c, r] >= 0`` the Lagrangian relaxation of
the capacity rows gives, for *every* placement ``x`` that respects capacity::

    objective(x) >= sum_w min over w's own options of (cost + lam . demand) - sum lam * cap

where "w's own options" are: unplaced (the unplaced penalty plus moving every current
replica), or any placement of w alone that respects its layout on its allowed clusters
(for ``divided``/``spread`` the move penalty is dropped, which only lowers the bound).
Anti-affinity, budgets and cost caps are dropped as well. Each term is minimized exactly and
in closed form, so the right-hand side is a valid lower bound for any nonnegative prices: no
assumption about the LP solver's accuracy enters it. :func:`capacity_prices` supplies good
prices: the duals of the LP relaxation (solved by GLOP on groups of workloads that are
identical to the LP), for which the Lagrangian bound equals the LP bound.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.linear_solver import pywraplp

from app.scheduling.optimizer.aggregation import group_identical_rows
from app.scheduling.optimizer.greedy import FloatArray, replica_prices
from app.scheduling.optimizer.problem import BatchProblem, Layout

_SAFETY = 1e-9
"""Relative slack taken off the float evaluation, so rounding can never overstate the bound."""


@dataclass(frozen=True)
class LpRelaxation:
    """GLOP's answer on the grouped LP: capacity prices and the LP's own objective."""

    prices: FloatArray
    objective: float | None
    optimal: bool
    group: npt.NDArray[np.int64]
    """Each workload's LP group."""
    group_replicas: FloatArray
    """The LP's (fractional) replicas per (LP group, cluster), copies included."""


def capacity_prices(problem: BatchProblem, time_limit: float) -> LpRelaxation:
    """Solve the LP relaxation by dual simplex and return its capacity duals as prices.

    Workloads the LP cannot tell apart (same requests, allowed clusters and prices, and for
    duplicated workloads the same replicas and copies) share one column per cluster, which
    leaves the LP's optimum unchanged and keeps it small.
    """
    n_c, n_r = problem.n_clusters, len(problem.resource_names)
    price = replica_prices(problem)
    dup = problem.layout == Layout.DUPLICATED
    moved = problem.current_or_zero().sum(axis=1) > 0
    key = np.concatenate(
        [
            np.where(dup | moved, problem.replicas, 0)[:, None],
            np.where(dup, problem.count, 0)[:, None],
            problem.requests,
            np.where(problem.allowed, problem.effective_cost(), np.iinfo(np.int64).min),
            problem.current_or_zero(),
        ],
        axis=1,
    )
    group = group_identical_rows(key)
    n_g = int(group.max(initial=-1)) + 1
    per_member = problem.replicas.astype(np.float64)
    member_total = np.bincount(group, weights=per_member, minlength=n_g)
    copies = np.bincount(group, weights=per_member * problem.copies(), minlength=n_g)
    first = np.full(n_g, -1, dtype=np.int64)
    first[group[::-1]] = np.arange(problem.n_workloads)[::-1]

    solver = pywraplp.Solver.CreateSolver("GLOP")
    solver.SetSolverSpecificParametersAsString("use_dual_simplex: true, use_preprocessing: false")
    solver.SetTimeLimit(max(1, int(time_limit * 1000)))
    allowed_price = np.abs(price[problem.allowed]) if problem.allowed.any() else np.zeros(1)
    slack_cost = 100.0 * (float(allowed_price.max(initial=0.0)) + 1.0)
    infinity = solver.infinity()
    rows = [
        [solver.Constraint(-infinity, float(problem.capacity[c, r])) for r in range(n_r)]
        for c in range(n_c)
    ]
    objective = solver.Objective()
    columns: list[tuple[int, int, pywraplp.Variable]] = []
    for g in range(n_g):
        w = int(first[g])
        clusters = np.flatnonzero(problem.allowed[w])
        if clusters.size == 0:
            continue
        demand = solver.Constraint(copies[g], copies[g])
        slack = solver.NumVar(0.0, copies[g], "")
        demand.SetCoefficient(slack, 1.0)
        objective.SetCoefficient(slack, slack_cost)
        requests = problem.requests[w]
        for c in clusters:
            var = solver.NumVar(0.0, float(member_total[g]), "")
            demand.SetCoefficient(var, 1.0)
            objective.SetCoefficient(var, float(price[w, c]))
            for r in np.flatnonzero(requests):
                rows[c][r].SetCoefficient(var, float(requests[r]))
            columns.append((g, int(c), var))
    objective.SetMinimization()
    status = solver.Solve()
    lam = np.zeros((n_c, n_r))
    group_replicas = np.zeros((n_g, n_c))
    if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        return LpRelaxation(lam, None, False, group, group_replicas)
    for cluster, per_resource in enumerate(rows):
        for resource, row in enumerate(per_resource):
            lam[cluster, resource] = max(0.0, -row.dual_value())
    for g_index, c_index, var in columns:
        group_replicas[g_index, c_index] = var.solution_value()
    optimal = status == pywraplp.Solver.OPTIMAL
    return LpRelaxation(lam, objective.Value(), optimal, group, group_replicas)


def lagrangian_bound(problem: BatchProblem, lam: FloatArray) -> float:
    """The certified lower bound on the objective for capacity prices ``lam`` (>= 0).

    See the module docstring for the derivation; returned slightly rounded down.
    """
    if (lam < 0).any():
        raise ValueError("capacity prices must be non-negative")
    unplaced = float(problem.unplaced_penalty())
    per_replica = problem.effective_cost() + problem.requests @ lam.T
    per_replica = np.where(problem.allowed, per_replica, np.inf)
    replicas = problem.replicas.astype(np.float64)
    current = problem.current_or_zero()
    moves_all = problem.move_penalty * current.sum(axis=1).astype(np.float64)
    kept = problem.move_penalty * np.minimum(current, problem.replicas[:, None])
    per_copy = replicas[:, None] * per_replica - kept
    n_allowed = problem.allowed.sum(axis=1)
    best = np.full(problem.n_workloads, np.inf)
    cheapest = per_replica.min(axis=1, initial=np.inf)
    for layout in Layout:
        rows = np.flatnonzero(problem.layout == layout)
        if rows.size == 0:
            continue
        if layout is Layout.SINGLE:
            best[rows] = per_copy[rows].min(axis=1, initial=np.inf) + moves_all[rows]
        elif layout is Layout.DIVIDED:
            best[rows] = replicas[rows] * cheapest[rows]
        else:
            for n in np.unique(problem.count[rows]):
                sub = rows[(problem.count[rows] == n) & (n_allowed[rows] >= n)]
                if sub.size == 0:
                    continue
                if layout is Layout.DUPLICATED:
                    smallest = np.partition(per_copy[sub], n - 1, axis=1)[:, :n]
                    best[sub] = smallest.sum(axis=1) + moves_all[sub]
                else:
                    smallest = np.partition(per_replica[sub], n - 1, axis=1)[:, :n]
                    best[sub] = smallest.sum(axis=1) + (replicas[sub] - n) * cheapest[sub]
    best = np.minimum(best, unplaced + moves_all)
    value = float(best.sum()) - float((lam * problem.capacity).sum())
    return value - _SAFETY * abs(value) - 1.0
