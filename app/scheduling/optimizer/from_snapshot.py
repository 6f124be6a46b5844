"""Bridge between the scheduling core and the optimizer: snapshot in, per-workload answer out.

The core decides *which* clusters a workload may use (its static filters: cluster state,
selector, taints, enforced ``require`` rules) and *what* replicas cost (its cost model); this
module turns those verdicts into a :class:`~.problem.BatchProblem`, solves it, and maps the
answer back to replicas per cluster name, with the core's words for every cluster a
workload could not use.

Translation choices:

* capacity is what the snapshot leaves free plus what the batch's own workloads hold now
  (re-placing a workload frees it), capped at the batch's total demand (which changes
  nothing and keeps solver numbers small); units via :mod:`.scaling`;
* cost is the core's marginal replica-hour cost (on-prem prepaid: 0); budgets and
  ``maxHourlyCost`` count the attributed cost, as the core's checks do;
* enforced ``prefer`` weight earns ``preference_rate`` micro-units per weight point per
  replica-hour;
* a workload's required anti-affinity to workloads *outside* the batch removes the clusters
  running them; between two batch workloads it becomes an anti-affinity pair;
* enforced budgets: each workload counts against the first enforced monthly budget that
  covers it (its remaining monthly allowance over 730 hours); a workload-hourly limit
  tightens ``maxHourlyCost``.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from app.policies.documents import Mode
from app.scheduling.cost import attributed_hour_cost, placement_cost, replica_hour_cost
from app.scheduling.framework import CycleState
from app.scheduling.optimizer.explain import NOT_ALLOWED
from app.scheduling.optimizer.problem import NO_LIMIT, BatchProblem, Layout
from app.scheduling.optimizer.scaling import capacity_units, request_units
from app.scheduling.optimizer.solve import BatchResult, SolverConfig, solve_batch
from app.scheduling.plugins.budgets import team_monthly_spend
from app.scheduling.scheduler import Scheduler
from app.scheduling.types import (
    CPU,
    GPU,
    HOURS_PER_MONTH,
    MEMORY,
    PODS,
    ClusterKind,
    InventorySnapshot,
    Strategy,
    WorkloadSpec,
)

RESOURCES = (CPU, MEMORY, GPU, PODS)
_LAYOUT = {
    Strategy.SINGLE: Layout.SINGLE,
    Strategy.SPREAD: Layout.SPREAD,
    Strategy.DIVIDED: Layout.DIVIDED,
    Strategy.DUPLICATED: Layout.DUPLICATED,
}


@dataclass(frozen=True)
class SnapshotProblem:
    """A batch problem with the names and core verdicts needed to explain its answer."""

    problem: BatchProblem
    workloads: tuple[WorkloadSpec, ...]
    rejected: tuple[Mapping[str, str], ...]
    """Per workload: cluster name → why the core's filters (or anti-affinity) exclude it."""


@dataclass(frozen=True)
class WorkloadPlacement:
    """One workload's answer: replicas per cluster name (empty when unplaced) and why not."""

    workload: str
    assignment: Mapping[str, int]
    marginal_hourly_cost: int
    summary: str
    reasons: Mapping[str, str]


@dataclass(frozen=True)
class SnapshotAnswer:
    """The optimizer's answer in the core's vocabulary, plus the solver's report."""

    placements: tuple[WorkloadPlacement, ...]
    result: BatchResult


def build_problem(
    scheduler: Scheduler,
    snapshot: InventorySnapshot,
    batch: Sequence[WorkloadSpec],
    now: datetime,
    *,
    move_penalty: int = 0,
    preference_rate: int = 100,
) -> SnapshotProblem:
    """Translate ``batch`` over ``snapshot`` into the optimizer's problem (see module doc)."""
    clusters = snapshot.clusters
    names = [c.name for c in clusters]
    index = {n: i for i, n in enumerate(names)}
    n_w, n_c = len(batch), len(clusters)
    requests = np.array(
        [[request_units(r, w.replica_demand.amount(r)) for r in RESOURCES] for w in batch],
        dtype=np.int64,
    ).reshape(n_w, len(RESOURCES))
    current = np.zeros((n_w, n_c), dtype=np.int64)
    for i, w in enumerate(batch):
        for name, replicas in w.current.items():
            if name in index:
                current[i, index[name]] = replicas
    held = current.T @ requests
    free = np.array(
        [[capacity_units(r, c.free(r)) for r in RESOURCES] for c in clusters], dtype=np.int64
    ).reshape(n_c, len(RESOURCES))
    copies = np.array([_count(w) if _layout(w) is Layout.DUPLICATED else 1 for w in batch])
    demand = (requests * (np.array([w.replicas for w in batch]) * copies)[:, None]).sum(axis=0)
    capacity = np.minimum(free + held, demand[None, :])

    allowed = np.zeros((n_w, n_c), dtype=bool)
    unit_cost = np.zeros((n_w, n_c), dtype=np.int64)
    spend_cost = np.zeros((n_w, n_c), dtype=np.int64)
    preference = np.zeros((n_w, n_c), dtype=np.int64)
    rejected: list[dict[str, str]] = []
    batch_keys = {w.key for w in batch}
    for i, w in enumerate(batch):
        verdict = scheduler.feasible_clusters(snapshot, w, now)
        reasons = {name: status.message for name, status in verdict.rejected.items()}
        blocked = _anti_affinity_hosts(snapshot, w, batch_keys)
        state = CycleState(snapshot, w, scheduler.policies, now)
        for c in verdict.feasible:
            if c.name in blocked:
                reasons[c.name] = "runs a workload the anti-affinity excludes"
                continue
            j = index[c.name]
            allowed[i, j] = True
            unit_cost[i, j] = replica_hour_cost(c, w.requests)
            spend_cost[i, j] = attributed_hour_cost(c, w.requests)
            weight = scheduler.policies.preference(state.applied, c)
            preference[i, j] = preference_rate * weight
        rejected.append(reasons)
    team, team_budget, max_cost = _budgets(scheduler, snapshot, batch, now)
    problem = BatchProblem(
        resource_names=RESOURCES,
        cluster_names=tuple(names),
        capacity=capacity,
        onprem=np.array([c.kind is ClusterKind.ONPREM for c in clusters], dtype=bool),
        workload_names=tuple(w.key for w in batch),
        replicas=np.array([w.replicas for w in batch], dtype=np.int64),
        requests=requests,
        layout=np.array([_layout(w) for w in batch], dtype=np.int64),
        count=np.array([_count(w) for w in batch], dtype=np.int64),
        allowed=allowed,
        unit_cost=unit_cost,
        preference=preference,
        current=current,
        move_penalty=move_penalty,
        spend_cost=spend_cost,
        team=team,
        team_budget=team_budget,
        max_hourly_cost=max_cost,
        anti_affinity=_batch_pairs(batch),
    )
    return SnapshotProblem(problem, tuple(batch), tuple(rejected))


def place_batch(
    scheduler: Scheduler,
    snapshot: InventorySnapshot,
    batch: Sequence[WorkloadSpec],
    now: datetime,
    config: SolverConfig | None = None,
    *,
    move_penalty: int = 0,
) -> SnapshotAnswer:
    """Place ``batch`` jointly and say, per workload, where and (when unplaced) why not."""
    built = build_problem(scheduler, snapshot, batch, now, move_penalty=move_penalty)
    result = solve_batch(built.problem, config)
    names = built.problem.cluster_names
    why = {r.workload: r for r in result.reasons}
    placements = []
    for i, w in enumerate(built.workloads):
        assignment = {names[c]: int(result.x[i, c]) for c in np.flatnonzero(result.x[i])}
        reasons: dict[str, str] = {}
        summary = ""
        if i in why:
            summary = why[i].summary
            for c, text in why[i].per_cluster.items():
                reasons[names[c]] = (
                    built.rejected[i].get(names[c], text) if text == NOT_ALLOWED else text
                )
        cost = placement_cost(snapshot, w.requests, assignment).marginal_hourly
        placements.append(WorkloadPlacement(w.key, assignment, cost, summary, reasons))
    return SnapshotAnswer(tuple(placements), result)


def _layout(w: WorkloadSpec) -> Layout:
    return _LAYOUT[w.placement.strategy]


def _count(w: WorkloadSpec) -> int:
    if w.placement.strategy is Strategy.SPREAD:
        return min(w.placement.min_spread, w.replicas)
    if w.placement.strategy is Strategy.DUPLICATED:
        return w.placement.copies
    return 1


def _required_anti_affinity(w: WorkloadSpec, other: WorkloadSpec) -> bool:
    return any(
        t.weight is None and t.applies_to(w.namespace, other) for t in w.placement.anti_affinity
    )


def _anti_affinity_hosts(
    snapshot: InventorySnapshot, w: WorkloadSpec, batch_keys: set[str]
) -> set[str]:
    hosts: set[str] = set()
    for other in snapshot.workloads:
        if other.key not in batch_keys and _required_anti_affinity(w, other):
            hosts.update(n for n, r in other.current.items() if r > 0)
    return hosts


def _batch_pairs(batch: Sequence[WorkloadSpec]) -> np.ndarray:
    pairs = [
        (a, b)
        for a in range(len(batch))
        for b in range(a + 1, len(batch))
        if _required_anti_affinity(batch[a], batch[b])
        or _required_anti_affinity(batch[b], batch[a])
    ]
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def _budgets(
    scheduler: Scheduler,
    snapshot: InventorySnapshot,
    batch: Sequence[WorkloadSpec],
    now: datetime,
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray]:
    groups: dict[tuple[str, str], int] = {}
    allowances: list[int] = []
    team = np.full(len(batch), 0, dtype=np.int64)
    max_cost = np.full(len(batch), NO_LIMIT, dtype=np.int64)
    outside = InventorySnapshot(
        snapshot.clusters,
        tuple(o for o in snapshot.workloads if o.key not in {w.key for w in batch}),
        snapshot.taken_at,
    )
    for i, w in enumerate(batch):
        caps = [] if w.placement.max_hourly_cost is None else [w.placement.max_hourly_cost]
        budgets = [b for b in scheduler.policies.budgets_for(w) if b.mode == Mode.ENFORCE]
        caps += [b.workload_hourly_limit for b in budgets if b.workload_hourly_limit is not None]
        if caps:
            max_cost[i] = min(caps)
        monthly = next((b for b in budgets if b.monthly_limit is not None), None)
        if monthly is None or monthly.monthly_limit is None:
            team[i] = -1
            continue
        key = (monthly.name, w.team)
        if key not in groups:
            groups[key] = len(allowances)
            spent = team_monthly_spend(CycleState(outside, w, scheduler.policies, now))
            allowances.append(max(0, (monthly.monthly_limit - spent) // HOURS_PER_MONTH))
        team[i] = groups[key]
    if not allowances:
        return None, None, max_cost
    unlimited = len(allowances)
    team[team < 0] = unlimited
    return team, np.array([*allowances, NO_LIMIT], dtype=np.int64), max_cost
