"""Batch problems for the optimizer's tests: random small ones, and a brute-force solver."""

import itertools
from collections.abc import Iterator

import numpy as np

from app.scheduling.optimizer import NO_LIMIT, BatchProblem, Layout, placement_cost, violations
from app.scheduling.optimizer.problem import IntArray


def make_problem(**fields: object) -> BatchProblem:
    """A problem from plain lists (the constructor copies them into read-only arrays)."""
    return BatchProblem(**fields)  # type: ignore[arg-type]


def random_problem(
    seed: int, *, max_workloads: int = 4, max_clusters: int = 3, max_replicas: int = 2
) -> BatchProblem:
    """A random batch exercising every constraint, small enough to enumerate when defaults."""
    rng = np.random.default_rng(seed)
    n_w = int(rng.integers(1, max_workloads + 1))
    n_c = int(rng.integers(1, max_clusters + 1))
    replicas = rng.integers(1, max_replicas + 1, n_w)
    layout = rng.choice(list(Layout), size=n_w)
    count = np.where(layout == Layout.SPREAD, np.minimum(replicas, 2), rng.integers(1, 3, n_w))
    onprem = rng.random(n_c) < 0.3
    unit_cost = rng.integers(1, 10, (n_w, n_c)) * ~onprem
    pairs = np.zeros((0, 2), dtype=np.int64)
    if n_w >= 2 and rng.random() < 0.4:
        pairs = np.array([rng.choice(n_w, 2, replace=False)])
    with_current = rng.random() < 0.3
    with_budget = rng.random() < 0.3
    return BatchProblem(
        resource_names=("cpu", "memory"),
        cluster_names=tuple(f"c{c}" for c in range(n_c)),
        capacity=rng.integers(0, 9, (n_c, 2)),
        onprem=onprem,
        workload_names=tuple(f"w{w}" for w in range(n_w)),
        replicas=replicas,
        requests=rng.integers(0, 4, (n_w, 2)),
        layout=layout,
        count=count,
        allowed=rng.random((n_w, n_c)) < 0.8,
        unit_cost=unit_cost,
        preference=rng.integers(0, 3, (n_w, n_c)) if rng.random() < 0.3 else None,
        current=_current(rng, replicas, n_c) if with_current else None,
        move_penalty=int(rng.integers(0, 5)) if with_current else 0,
        spend_cost=unit_cost + rng.integers(0, 3, (n_w, n_c)) if with_budget else None,
        team=rng.integers(0, 2, n_w) if with_budget else None,
        team_budget=rng.integers(0, 30, 2) if with_budget else None,
        max_hourly_cost=np.where(rng.random(n_w) < 0.2, rng.integers(0, 30, n_w), NO_LIMIT),
        anti_affinity=pairs,
    )


def _current(rng: np.random.Generator, replicas: IntArray, n_c: int) -> IntArray:
    current = np.zeros((len(replicas), n_c), dtype=np.int64)
    for w, r in enumerate(replicas):
        if rng.random() < 0.6:
            current[w, rng.integers(0, n_c)] = r
    return current


def _options(problem: BatchProblem, w: int) -> Iterator[IntArray]:
    """Every way to place workload ``w`` alone on its allowed clusters, unplaced included."""
    n_c = problem.n_clusters
    yield np.zeros(n_c, dtype=np.int64)
    clusters = np.flatnonzero(problem.allowed[w])
    replicas, count = int(problem.replicas[w]), int(problem.count[w])
    layout = Layout(problem.layout[w])
    if layout in (Layout.SINGLE, Layout.DUPLICATED):
        copies = 1 if layout is Layout.SINGLE else count
        for chosen in itertools.combinations(clusters, copies):
            row = np.zeros(n_c, dtype=np.int64)
            row[list(chosen)] = replicas
            yield row
        return
    for split in itertools.product(range(replicas + 1), repeat=len(clusters)):
        if sum(split) != replicas:
            continue
        if layout is Layout.SPREAD and sum(1 for s in split if s) < count:
            continue
        row = np.zeros(n_c, dtype=np.int64)
        row[clusters] = split
        yield row


def brute_force(problem: BatchProblem) -> tuple[int, int]:
    """The true optimum as (unplaced workloads, cost), by enumerating every placement."""
    best: tuple[int, int] | None = None
    choices = [list(_options(problem, w)) for w in range(problem.n_workloads)]
    for combo in itertools.product(*choices):
        x = np.array(combo, dtype=np.int64)
        if violations(problem, x):
            continue
        key = (int((x.sum(axis=1) == 0).sum()), placement_cost(problem, x))
        if best is None or key < best:
            best = key
    if best is None:
        raise AssertionError("placing nothing is always valid")
    return best
