"""Joint placement of a batch: bound, heuristics, CP-SAT, and the report.

For each independent part of the batch (:mod:`.decompose`):

1. tighten domains: drop clusters where a workload cannot fit even alone, or breaks its cost
   cap (single and duplicated); this never removes a feasible placement;
2. the largest-first greedy baseline (what one-at-a-time schedulers do);
3. the LP relaxation (GLOP dual simplex over LP-identical groups) gives capacity prices and a
   certified Lagrangian lower bound (:mod:`.bound`);
4. a greedy priced with those capacity prices, most constrained workloads first, rounding
   the LP's plan; then local search moving one workload at a time;
5. CP-SAT over groups of interchangeable workloads (:mod:`.cpsat`), warm-started from the
   best placement so far. Small parts keep every allowed cluster, so CP-SAT's own bound is
   valid too, and get all the time left. Large parts keep, per group, the clusters the LP
   uses, those the hint uses and the cheapest under the LP prices, for part of the time
   left (CP-SAT stops early once the gap to the Lagrangian bound meets the target);
6. for large parts, large-neighbourhood search (:mod:`.lns`): exact re-solves of a few
   clusters at a time, guided by where the incumbent departs from the LP plan, until the
   gap target or the deadline. Measured at 1,000 x 20, the gap left after step 4 is in the
   solution, not the bound (CP-SAT's bound adds 0.01-0.02%), so the time goes there.

The answer is the best placement found, compared lexicographically: fewer unplaced
workloads first, then lower cost.
"""

import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np

from app.scheduling.optimizer.aggregation import Groups, interchangeable_groups
from app.scheduling.optimizer.bound import LpRelaxation, capacity_prices, lagrangian_bound
from app.scheduling.optimizer.cpsat import CpSatParameters, GroupModel
from app.scheduling.optimizer.decompose import Part, independent_parts, subproblem
from app.scheduling.optimizer.explain import UnplacedReason, explain_unplaced
from app.scheduling.optimizer.greedy import (
    FloatArray,
    Targets,
    constrained_order,
    greedy_baseline,
    greedy_fill,
    improve_by_moves,
    replica_prices,
)
from app.scheduling.optimizer.lns import NeighbourhoodBudget, improve_by_neighbourhoods
from app.scheduling.optimizer.problem import (
    BatchProblem,
    IntArray,
    Layout,
    placement_cost,
)

_LP_SUPPORT = 1e-6
"""Replicas above which an LP value counts as used (GLOP's primal tolerance is 1e-7)."""

_ANSWER_RESERVE = 0.03
"""Share of the time limit kept for assembling and explaining the answer after the search."""


class SolveStatus(StrEnum):
    """What the answer is worth.

    ``optimal``: everything placed, proven optimal. ``feasible``: everything placed, within
    the configured gap of the bound. ``infeasible``: proven that not every workload can be
    placed; the answer places as many as it could. ``timed_out``: the time ran out before
    the gap target or before proving the unplaced workloads unplaceable.
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    TIMED_OUT = "timed_out"


@dataclass(frozen=True)
class SolverConfig:
    """Solver settings (the application's configuration feeds these).

    ``relative_gap_limit`` is the target gap; CP-SAT stops at it. ``deterministic_time_limit``
    (CP-SAT's work units) makes runs reproducible regardless of machine load when set
    together with ``num_workers=1``. Parts with at most ``full_model_columns`` allowed
    (group, cluster) pairs get the complete CP-SAT model and all the time left; larger ones
    get a restricted model (per group: the LP's clusters, the incumbent's, and the
    ``columns_per_group`` cheapest under the LP prices) for ``restricted_model_share`` of the
    time left, then large-neighbourhood search over ``neighbourhood_clusters`` clusters at a
    time. Local search (moving one workload at a time) may use ``local_search_share`` of the
    time left.
    """

    time_limit: float = 10.0
    num_workers: int = 2
    random_seed: int = 0
    relative_gap_limit: float = 1e-3
    deterministic_time_limit: float | None = None
    full_model_columns: int = 2_000
    columns_per_group: int = 1
    restricted_model_share: float = 0.4
    neighbourhood_clusters: int = 4
    local_search_share: float = 0.2


@dataclass(frozen=True)
class BatchResult:
    """The answer and how good it is.

    ``x`` [W, C]: replicas per workload and cluster. ``cost``: its objective without the
    unplaced penalty (micro-units per hour: spend minus preferences plus move penalties).
    ``lower_bound``: a certified lower bound on the cost of any placement that leaves at
    most ``min_unplaced`` workloads unplaced (the proven minimum); ``gap`` is
    ``(cost - lower_bound) / |lower_bound|`` when the answer leaves exactly that minimum
    unplaced, else ``None``.
    """

    status: SolveStatus
    x: IntArray
    cost: int
    lower_bound: float
    gap: float | None
    unplaced: tuple[int, ...]
    min_unplaced: int
    reasons: tuple[UnplacedReason, ...]
    solve_time: float
    greedy_cost: int
    greedy_unplaced: int
    stats: dict[str, float] = field(default_factory=dict)


@dataclass
class _PartAnswer:
    x: IntArray
    cost_bound: float
    min_unplaced: int
    proven_optimal: bool
    greedy_x: IntArray
    stats: dict[str, float]


def tighten_domains(problem: BatchProblem) -> BatchProblem:
    """Drop (workload, cluster) pairs no feasible placement can use."""
    whole = np.isin(problem.layout, [Layout.SINGLE, Layout.DUPLICATED])
    unit = np.where(whole, problem.replicas, 1)
    fits = (
        (problem.requests[:, None, :] * unit[:, None, None]) <= problem.capacity[None, :, :]
    ).all(axis=2)
    allowed = problem.allowed & fits
    if problem.max_hourly_cost is not None:
        cap = problem.max_hourly_cost[:, None]
        over = (cap >= 0) & (problem.spend_rate() * unit[:, None] > cap)
        allowed &= ~over
    return replace(problem, allowed=allowed)


def solve_batch(problem: BatchProblem, config: SolverConfig | None = None) -> BatchResult:
    """Place ``problem`` jointly; see the module docstring for the method."""
    config = config or SolverConfig()
    started = time.monotonic()
    deadline = started + config.time_limit - min(_ANSWER_RESERVE * config.time_limit, 1.0)
    tight = tighten_domains(problem)
    parts, hopeless = independent_parts(tight)
    x = np.zeros((problem.n_workloads, problem.n_clusters), dtype=np.int64)
    greedy_x = np.zeros_like(x)
    answers = _solve_parts(tight, parts, config, deadline)
    cost_bound = 0.0
    min_unplaced = len(hopeless)
    proven = True
    stats: dict[str, float] = {"parts": float(len(parts))}
    for part, answer in zip(parts, answers, strict=True):
        x[np.ix_(part.workloads, part.clusters)] = answer.x
        greedy_x[np.ix_(part.workloads, part.clusters)] = answer.greedy_x
        cost_bound += answer.cost_bound + _moves_outside(problem, part)
        min_unplaced += answer.min_unplaced
        proven &= answer.proven_optimal
        for key, value in answer.stats.items():
            stats[key] = stats.get(key, 0.0) + value
    cost_bound += problem.move_penalty * float(problem.current_or_zero()[hopeless].sum())
    placed = x.sum(axis=1) > 0
    unplaced = tuple(int(w) for w in np.flatnonzero(~placed))
    cost = placement_cost(problem, x)
    gap = _gap(cost, cost_bound) if len(unplaced) == min_unplaced else None
    status = _status(len(unplaced), min_unplaced, gap, proven, config)
    reasons = explain_unplaced(tight, problem.allowed, x)
    return BatchResult(
        status=status,
        x=x,
        cost=cost,
        lower_bound=cost_bound,
        gap=gap,
        unplaced=unplaced,
        min_unplaced=min_unplaced,
        reasons=tuple(reasons),
        solve_time=time.monotonic() - started,
        greedy_cost=placement_cost(problem, greedy_x),
        greedy_unplaced=int((greedy_x.sum(axis=1) == 0).sum()),
        stats=stats,
    )


def _solve_parts(
    problem: BatchProblem, parts: Sequence[Part], config: SolverConfig, deadline: float
) -> list[_PartAnswer]:
    subproblems = [subproblem(problem, part) for part in parts]
    total = sum(max(1, len(p.workloads)) for p in parts) or 1
    concurrency = max(1, (os.cpu_count() or 1) // max(1, config.num_workers))
    now = time.monotonic()
    if concurrency == 1 or len(parts) == 1:
        answers = []
        for sub in subproblems:
            now = time.monotonic()
            share = (deadline - now) * max(1, sub.n_workloads) / total
            answers.append(_solve_part(sub, config, now + max(share, 0.0)))
            total -= max(1, sub.n_workloads)
        return answers
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [
            pool.submit(
                _solve_part,
                sub,
                config,
                now + (deadline - now) * min(1.0, concurrency * max(1, sub.n_workloads) / total),
            )
            for sub in subproblems
        ]
        return [f.result() for f in futures]


def _moves_outside(problem: BatchProblem, part: Part) -> float:
    """Move penalty a part's workloads pay for current replicas on clusters outside it."""
    if problem.current is None or not problem.move_penalty:
        return 0.0
    outside = np.ones(problem.n_clusters, dtype=bool)
    outside[part.clusters] = False
    return float(problem.move_penalty * problem.current[np.ix_(part.workloads, outside)].sum())


def _objective(problem: BatchProblem, x: IntArray) -> tuple[int, int]:
    return int((x.sum(axis=1) == 0).sum()), placement_cost(problem, x)


def _solve_part(problem: BatchProblem, config: SolverConfig, deadline: float) -> _PartAnswer:
    stats: dict[str, float] = {}
    clock = time.monotonic()
    baseline = greedy_baseline(problem)
    stats["greedy_s"] = time.monotonic() - clock
    clock = time.monotonic()
    lp = capacity_prices(problem, max(0.5, (deadline - clock) * 0.5))
    bound = lagrangian_bound(problem, lp.prices)
    stats["lp_s"] = time.monotonic() - clock
    clock = time.monotonic()
    priced = replica_prices(problem) + problem.requests @ lp.prices.T
    plan = None if lp.objective is None else Targets(lp.group, lp.group_replicas)
    candidates = [baseline, greedy_fill(problem, constrained_order(problem), priced, plan)]
    best = min(candidates, key=lambda x: _objective(problem, x))
    stats["priced_greedy_s"] = time.monotonic() - clock
    clock = time.monotonic()
    search_until = clock + config.local_search_share * max(0.0, deadline - clock)
    best = improve_by_moves(problem, best, replica_prices(problem), search_until)
    stats["local_search_s"] = time.monotonic() - clock
    penalty = problem.unplaced_penalty()
    min_unplaced = _proven_unplaced(bound, penalty)
    progress = _Progress(best, bound - penalty * min_unplaced, min_unplaced)
    if _needs_search(problem, progress, config):
        _search_exactly(problem, progress, lp=lp, priced=priced, config=config, deadline=deadline)
        stats.update(progress.stats)
    best, min_unplaced = progress.x, progress.min_unplaced
    cost_bound = _integral(progress.cost_bound)
    cost = placement_cost(problem, best)
    proven = progress.proven or (_unplaced(best) == min_unplaced and cost <= cost_bound + 1)
    return _PartAnswer(best, cost_bound, min_unplaced, proven, baseline, stats)


@dataclass
class _Progress:
    """The incumbent and what is proven about the part, refined by the exact stages.

    ``cost_bound`` bounds the cost of placements leaving ``min_unplaced`` unplaced.
    """

    x: IntArray
    cost_bound: float
    min_unplaced: int
    proven: bool = False
    stats: dict[str, float] = field(default_factory=dict)

    def offer(self, problem: BatchProblem, x: IntArray | None) -> None:
        """Keep ``x`` if it is better (fewer unplaced, then cheaper)."""
        if x is not None and _objective(problem, x) < _objective(problem, self.x):
            self.x = x


def _search_exactly(
    problem: BatchProblem,
    progress: _Progress,
    *,
    lp: LpRelaxation,
    priced: FloatArray,
    config: SolverConfig,
    deadline: float,
) -> None:
    """CP-SAT on the whole part (complete or restricted), then neighbourhoods if restricted.

    Only the complete model's bounds are valid for the part, so only they are recorded.
    """
    stats = progress.stats
    clock = time.monotonic()
    groups = interchangeable_groups(problem)
    columns, complete = _columns(
        problem, groups, priced=priced, lp=lp, hint=progress.x, config=config
    )
    model = GroupModel(problem, groups, columns)
    model.hint(progress.x)
    stats["cpsat_build_s"] = time.monotonic() - clock
    stats["cpsat_columns"] = float(sum(len(c) for c in columns))
    penalty = problem.unplaced_penalty()
    lagrangian = progress.cost_bound + penalty * progress.min_unplaced
    if _unplaced(progress.x) > progress.min_unplaced:
        first = model.most_placed(_cpsat_parameters(config, (deadline - clock) / 2))
        stats["cpsat_s"] = first.wall_time
        progress.offer(problem, first.x)
        model.hint(progress.x)
        if complete and first.x is not None:
            most = int(first.bound + 1e-6) if first.status != "OPTIMAL" else first.objective
            progress.min_unplaced = max(progress.min_unplaced, problem.n_workloads - int(most or 0))
            progress.cost_bound = lagrangian - penalty * progress.min_unplaced
    all_placeable = _unplaced(progress.x) == progress.min_unplaced
    target = _target_cost(progress.cost_bound, config) if all_placeable else None
    share = 1.0 if complete else config.restricted_model_share
    second = model.cheapest(
        _cpsat_parameters(config, share * (deadline - time.monotonic()), target),
        problem.n_workloads - _unplaced(progress.x),
    )
    stats["cpsat_s"] = stats.get("cpsat_s", 0.0) + second.wall_time
    progress.offer(problem, second.x)
    if complete and _unplaced(progress.x) == progress.min_unplaced and second.x is not None:
        progress.cost_bound = max(progress.cost_bound, second.bound)
        progress.proven = second.status == "OPTIMAL"
    if not complete and _needs_search(problem, progress, config):
        progress.x = _search_neighbourhoods(
            problem, progress, lp=lp, config=config, deadline=deadline
        )


def _integral(bound: float) -> float:
    """Round a bound on an integer objective up to an integer, after a margin for float error."""
    return float(np.ceil(bound - 1e-9 * max(1.0, abs(bound)) - 1e-6))


def _unplaced(x: IntArray) -> int:
    return int((x.sum(axis=1) == 0).sum())


def _cpsat_parameters(
    config: SolverConfig, time_limit: float, stop_at: float | None = None
) -> CpSatParameters:
    return CpSatParameters(
        time_limit=time_limit,
        num_workers=config.num_workers,
        random_seed=config.random_seed,
        relative_gap_limit=config.relative_gap_limit,
        deterministic_time_limit=config.deterministic_time_limit,
        stop_at_objective=stop_at,
    )


def _target_cost(cost_bound: float, config: SolverConfig) -> float:
    """The cost at which the gap target is met."""
    return cost_bound + config.relative_gap_limit * abs(cost_bound)


def _search_neighbourhoods(
    problem: BatchProblem,
    progress: _Progress,
    *,
    lp: LpRelaxation,
    config: SolverConfig,
    deadline: float,
) -> IntArray:
    """Large-neighbourhood search until the gap target or the deadline (placed count kept)."""
    x, stats = progress.x, progress.stats
    if problem.n_clusters <= config.neighbourhood_clusters:
        return x
    clock = time.monotonic()
    budget = NeighbourhoodBudget(
        deadline=deadline,
        target_cost=_target_cost(progress.cost_bound, config),
        deterministic_time=config.deterministic_time_limit,
        clusters=config.neighbourhood_clusters,
    )
    plan_cost = None if lp.objective is None else _plan_cost_per_cluster(problem, lp)
    outcome = improve_by_neighbourhoods(
        problem, x, _cpsat_parameters(config, 0.0), budget, plan_cost
    )
    stats["lns_s"] = time.monotonic() - clock
    stats["lns_steps"] = float(outcome.steps)
    stats["lns_improvements"] = float(outcome.improvements)
    return outcome.x


def _plan_cost_per_cluster(problem: BatchProblem, lp: LpRelaxation) -> FloatArray:
    """What the LP relaxation's plan spends on each cluster (objective units)."""
    n_groups = lp.group_replicas.shape[0]
    first = np.zeros(n_groups, dtype=np.int64)
    first[lp.group[::-1]] = np.arange(problem.n_workloads)[::-1]
    plan: FloatArray = (lp.group_replicas * replica_prices(problem)[first]).sum(axis=0)
    return plan


def _proven_unplaced(bound: float, penalty: int) -> int:
    """Fewest unplaced workloads any placement can have, as the bound proves.

    Every cost is below ``penalty / 2`` in absolute value, so a bound above
    ``(m - 1/2) * penalty`` proves at least ``m`` workloads stay unplaced.
    """
    return max(0, int(np.floor(bound / penalty - 0.5)) + 1)


def _needs_search(problem: BatchProblem, progress: _Progress, config: SolverConfig) -> bool:
    if _unplaced(progress.x) > progress.min_unplaced:
        return True
    gap = _gap(placement_cost(problem, progress.x), progress.cost_bound)
    return gap > config.relative_gap_limit


def _columns(
    problem: BatchProblem,
    groups: Groups,
    *,
    priced: np.ndarray,
    lp: LpRelaxation,
    hint: IntArray,
    config: SolverConfig,
) -> tuple[list[IntArray], bool]:
    """Each group's clusters in the model, and whether that is every allowed cluster.

    A restricted group keeps the clusters its LP group uses, those the hint uses, and its
    ``columns_per_group`` cheapest under the LP prices: the LP's support is where an optimum
    mostly lies, and the hint keeps the model feasible.
    """
    allowed = problem.allowed[groups.first]
    if int(allowed.sum()) <= config.full_model_columns:
        return [np.flatnonzero(row).astype(np.int64) for row in allowed], True
    used = np.zeros_like(allowed)
    np.logical_or.at(used, groups.of, hint > 0)
    ranked = np.argsort(np.where(allowed, priced[groups.first], np.inf), axis=1, kind="stable")
    keep = np.zeros_like(allowed)
    top = ranked[:, : config.columns_per_group]
    np.put_along_axis(keep, top, True, axis=1)
    if lp.objective is not None:
        keep |= lp.group_replicas[lp.group[groups.first]] > _LP_SUPPORT
    keep = (keep & allowed) | used
    return [np.flatnonzero(row).astype(np.int64) for row in keep], False


def _gap(cost: int, cost_bound: float) -> float:
    if cost_bound == 0:
        return 0.0 if cost <= 0 else float("inf")
    return max(0.0, (cost - cost_bound) / abs(cost_bound))


def _status(
    unplaced: int, min_unplaced: int, gap: float | None, proven: bool, config: SolverConfig
) -> SolveStatus:
    if min_unplaced > 0 and unplaced == min_unplaced:
        return SolveStatus.INFEASIBLE
    if gap is None or unplaced > 0:
        return SolveStatus.TIMED_OUT
    if proven or gap <= 1e-9:
        return SolveStatus.OPTIMAL
    if gap <= config.relative_gap_limit:
        return SolveStatus.FEASIBLE
    return SolveStatus.TIMED_OUT
