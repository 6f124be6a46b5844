"""Large-neighbourhood search: re-solve a few clusters exactly while the rest stays put.

A *neighbourhood* is a handful of clusters that share many workloads' allowed sets; its free
workloads are the placed ones that sit entirely on those clusters. Given the LP relaxation's
spend per cluster, neighbourhoods favour clusters where the incumbent spends more than the
LP plan together with clusters where it spends less: that is where the LP knows a cheaper
packing exists (on the benchmark the remaining gap sat on two or three such clusters).
Everything else keeps its place and only leaves less room: what remains of each cluster's
capacity and each team's budget, and the clusters an anti-affine partner already uses. That
restricted batch is itself a :class:`~.problem.BatchProblem`, so CP-SAT solves it with the
same :class:`~.cpsat.GroupModel` as the whole batch, hinted with the current placement, and
its answer replaces the neighbourhood only when it costs strictly less. Hence the incumbent
never gets worse and never breaks a constraint.

Why: one-workload moves (:func:`~.greedy.improve_by_moves`) stall where the remaining saving
needs several workloads to trade places (repacking prepaid capacity), while CP-SAT on the
whole batch spends its time on presolve and the bound. Small exact re-solves do the trading.
"""

import time
from dataclasses import dataclass, replace

import numpy as np

from app.scheduling.optimizer.aggregation import interchangeable_groups
from app.scheduling.optimizer.cpsat import CpSatAnswer, CpSatParameters, GroupModel
from app.scheduling.optimizer.decompose import Part, subproblem
from app.scheduling.optimizer.greedy import FloatArray, replica_prices
from app.scheduling.optimizer.problem import (
    BatchProblem,
    BoolArray,
    IntArray,
    placement_cost,
    spend,
)

_SHORTEST_STEP = 0.05
"""Seconds below which a step cannot even build its model; the search stops instead."""


@dataclass(frozen=True)
class NeighbourhoodBudget:
    """How long and how widely to search.

    Stops at ``deadline`` (``time.monotonic``), once the cost is at most ``target_cost``, or
    once the steps' CP-SAT work units add up to ``deterministic_time`` (when set: with one
    worker that makes the search reproducible regardless of machine load). Each step gets
    ``step_time`` seconds (and, when ``deterministic_time`` is set, at most ``step_work``
    work units). Neighbourhoods start at ``clusters`` clusters, grow by one while steps
    finish proven optimal and shrink while they do not, and free at most ``max_workloads``.
    The search also stops after twice as many fruitless draws in a row as there are
    clusters (nothing to free, or no gain), which ends it on batches it has solved.
    """

    deadline: float
    target_cost: float
    deterministic_time: float | None = None
    step_time: float = 0.3
    step_work: float = 0.5
    clusters: int = 4
    max_workloads: int = 400


@dataclass(frozen=True)
class SearchOutcome:
    """The improved placement and what the search did."""

    x: IntArray
    steps: int
    improvements: int


def improve_by_neighbourhoods(
    problem: BatchProblem,
    x: IntArray,
    params: CpSatParameters,
    budget: NeighbourhoodBudget,
    plan_cost: FloatArray | None = None,
) -> SearchOutcome:
    """Lower the cost of the valid placement ``x`` one neighbourhood at a time.

    Placed workloads stay placed; the result is valid and never costs more than ``x``.
    ``plan_cost`` [C] is a fractional plan's (the LP's) objective per cluster, which guides
    the choice of neighbourhoods; neighbourhoods are drawn from ``params.random_seed``.
    """
    x = x.copy()
    rng = np.random.default_rng(params.random_seed)
    n_c = problem.n_clusters
    size = min(budget.clusters, n_c)
    affinity = _shared_workloads(problem, x)
    price = replica_prices(problem)
    anchors: list[int] = []
    work_left = budget.deterministic_time
    cost = placement_cost(problem, x)
    steps = improvements = idle = 0
    while cost > budget.target_cost and (work_left is None or work_left > 0):
        step_time = min(budget.step_time, budget.deadline - time.monotonic())
        if step_time <= _SHORTEST_STEP or idle >= 2 * n_c:
            break
        if not anchors:
            anchors = rng.permutation(n_c).tolist()
        excess = None if plan_cost is None else (x * price).sum(axis=0) - plan_cost
        anchor = anchors.pop() if excess is None or rng.random() < 0.5 else _overspent(rng, excess)
        clusters = _neighbourhood(rng, affinity, anchor, size, excess)
        free = _free_workloads(rng, x, clusters, budget.max_workloads)
        if free.size < 2:
            idle += 1
            continue
        step_work = None if work_left is None else min(budget.step_work, work_left)
        step = replace(
            params,
            time_limit=step_time,
            relative_gap_limit=0.0,
            deterministic_time_limit=step_work,
            stop_at_objective=None,
        )
        answer, sub, current = _solve_neighbourhood(problem, x, Part(free, clusters), step)
        steps += 1
        if work_left is not None:
            work_left -= answer.deterministic_time
        if answer.x is not None and placement_cost(sub, answer.x) < placement_cost(sub, current):
            x[np.ix_(free, clusters)] = answer.x
            cost = placement_cost(problem, x)
            improvements += 1
            idle = 0
        else:
            idle += 1
        size = min(n_c, size + 1) if answer.status == "OPTIMAL" else max(2, size - 1)
    return SearchOutcome(x, steps, improvements)


def _solve_neighbourhood(
    problem: BatchProblem, x: IntArray, part: Part, params: CpSatParameters
) -> tuple[CpSatAnswer, BatchProblem, IntArray]:
    """CP-SAT's answer on ``part`` around ``x``, the restricted problem, and ``x`` on it."""
    sub = restricted_problem(problem, x, part)
    groups = interchangeable_groups(sub)
    columns = [np.flatnonzero(sub.allowed[w]).astype(np.int64) for w in groups.first]
    model = GroupModel(sub, groups, columns)
    current = x[np.ix_(part.workloads, part.clusters)]
    model.hint(current)
    return model.cheapest(params, min_placed=sub.n_workloads), sub, current


def restricted_problem(problem: BatchProblem, x: IntArray, part: Part) -> BatchProblem:
    """``part``'s workloads on ``part``'s clusters, around everything else fixed as in ``x``.

    The free workloads must have no replica outside ``part.clusters`` in ``x``. Capacity and
    team budgets are what the fixed workloads leave; a free workload loses the clusters its
    fixed anti-affine partners use. Any valid placement of the result, put back into ``x``,
    is valid for ``problem``, and their costs differ by a constant.
    """
    fixed = np.ones(problem.n_workloads, dtype=bool)
    fixed[part.workloads] = False
    on_part = x[:, part.clusters] * fixed[:, None]
    capacity = problem.capacity[part.clusters] - on_part.T @ problem.requests
    allowed = problem.allowed[np.ix_(part.workloads, part.clusters)].copy()
    position = np.full(problem.n_workloads, -1, dtype=np.int64)
    position[part.workloads] = np.arange(len(part.workloads))
    for a, b in problem.anti_affinity:
        for free_one, other in ((a, b), (b, a)):
            if position[free_one] >= 0 and fixed[other]:
                allowed[position[free_one]] &= x[other, part.clusters] == 0
    sub = replace(subproblem(problem, part), capacity=capacity, allowed=allowed)
    if problem.team_budget is None or problem.team is None:
        return sub
    fixed_spend = np.bincount(
        problem.team[fixed],
        weights=spend(problem, x)[fixed],
        minlength=len(problem.team_budget),
    ).astype(np.int64)
    left = np.where(problem.team_budget >= 0, problem.team_budget - fixed_spend, -1)
    return replace(sub, team_budget=left)


def _shared_workloads(problem: BatchProblem, x: IntArray) -> np.ndarray:
    """How many placed workloads each pair of clusters could both host."""
    placed = problem.allowed[x.sum(axis=1) > 0].astype(np.float64)
    shared: np.ndarray = placed.T @ placed
    np.fill_diagonal(shared, 0.0)
    return shared


def _overspent(rng: np.random.Generator, excess: FloatArray) -> int:
    """A cluster drawn in proportion to how much more than the plan it spends."""
    over = np.maximum(excess, 0.0)
    total = over.sum()
    if total <= 0:
        return int(rng.integers(len(excess)))
    return int(rng.choice(len(excess), p=over / total))


def _neighbourhood(
    rng: np.random.Generator,
    affinity: np.ndarray,
    anchor: int,
    size: int,
    excess: FloatArray | None,
) -> IntArray:
    """``anchor`` and ``size - 1`` more clusters, drawn in proportion to shared workloads.

    With ``excess``, clusters that spend less than the plan (room the plan would use) weigh
    up to twice as much.
    """
    pull = np.ones(len(affinity))
    if excess is not None:
        under = np.maximum(-excess, 0.0)
        pull += under / max(float(under.max(initial=0.0)), 1.0)
    chosen = [anchor]
    weight = affinity[anchor].copy()
    while len(chosen) < size:
        weight[chosen] = 0.0
        odds = weight * pull
        total = odds.sum()
        if total <= 0:
            break
        pick = int(rng.choice(len(odds), p=odds / total))
        chosen.append(pick)
        weight += affinity[pick]
    return np.sort(np.array(chosen, dtype=np.int64))


def _free_workloads(
    rng: np.random.Generator, x: IntArray, clusters: IntArray, limit: int
) -> IntArray:
    """Placed workloads entirely on ``clusters``; a random ``limit`` of them when more."""
    inside: BoolArray = np.zeros(x.shape[1], dtype=bool)
    inside[clusters] = True
    candidates = np.flatnonzero((x[:, inside].sum(axis=1) > 0) & (x[:, ~inside].sum(axis=1) == 0))
    if candidates.size > limit:
        candidates = np.sort(rng.choice(candidates, size=limit, replace=False))
    return candidates.astype(np.int64)
