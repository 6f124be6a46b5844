"""The entry point: ``Scheduler(profile, policies).decide(snapshot, workload, now)``.

Like Karmada's generic scheduler: filter every cluster (collecting a diagnosis), score the
feasible ones, assign replicas by strategy, then check the whole placement (cost caps,
budgets). If the best-ranked placement is refused by a check, the cheapest placement is
tried instead; if that is refused too, the decision says so and names it.

Example::

    >>> scheduler = Scheduler(DEFAULT_PROFILE, PolicySet(load_directory(Path("policies"))))
    >>> decision = scheduler.decide(snapshot, workload, now)
    >>> decision.summary
    '3/12 clusters fit: 7 rejected by personal-data-stays-in-japan, 2 lack 4 CPU; ...'
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from app.policies.evaluation import PolicySet
from app.scheduling.assignment import AssignmentError, Candidate, assign
from app.scheduling.cost import CostEstimate, placement_cost, replica_hour_cost
from app.scheduling.decision import Alternative, Decision, Verdicts
from app.scheduling.framework import CycleState, FilterResult, Framework, Profile
from app.scheduling.plugins.budgets import NAME as BUDGETS
from app.scheduling.plugins.capacity_fit import NAME as CAPACITY
from app.scheduling.plugins.capacity_fit import shortfall
from app.scheduling.registry import DEFAULT_PROFILE, REGISTRY
from app.scheduling.status import Status
from app.scheduling.types import ClusterSnapshot, InventorySnapshot, WorkloadSpec

_LISTED = 5
_REMEDIES = 10


@dataclass(frozen=True)
class _Outcome:
    assignment: dict[str, int]
    failure: str
    notes: tuple[str, ...]
    cheapest: Alternative | None


class Scheduler:
    """Decides placements for workloads under one profile and one set of policies.

    Thread-safe for concurrent ``decide`` calls: all per-decision data lives in a
    :class:`CycleState`; the only shared data are memoized results (policy verdicts, and
    the framework's per-snapshot equivalence caches), which threads may at worst compute
    twice.
    """

    def __init__(self, profile: Profile = DEFAULT_PROFILE, policies: PolicySet | None = None):
        self.profile = profile
        self.policies = policies if policies is not None else PolicySet()
        self.framework = Framework(profile, REGISTRY)

    def feasible_clusters(
        self, snapshot: InventorySnapshot, workload: WorkloadSpec, now: datetime
    ) -> FilterResult:
        """Return the clusters ``workload`` may use by the static filters (state, selector,
        taints, policy ``require`` rules), ignoring capacity and other workloads, with the
        reason for each excluded cluster. The batch optimizer's allowed pairs."""
        state = CycleState(snapshot, workload, self.policies, now)
        return self.framework.run_filters(state, static_only=True)

    def decide(
        self, snapshot: InventorySnapshot, workload: WorkloadSpec, now: datetime
    ) -> Decision:
        """Decide where ``workload`` goes in ``snapshot`` at ``now``, with the explanation."""
        state = CycleState(snapshot, workload, self.policies, now)
        filtered = self.framework.run_filters(state)
        scores = self.framework.run_scores(state, filtered.feasible)
        totals = scores.totals
        ranked = sorted(filtered.feasible, key=lambda c: (-totals[c.name], c.name))
        candidates = self._candidates(state, ranked)
        outcome = self._assign(state, ranked, candidates)
        placed = bool(outcome.assignment)
        cost = placement_cost(snapshot, workload.requests, outcome.assignment) if placed else None
        alternative = (
            self._next_best(state, candidates, outcome.assignment) if placed else outcome.cheapest
        )
        audit = {name: tuple(v.describe() for v in found) for name, found in state.audit.items()}
        notes = [*state.applied.notes, *outcome.notes]
        if audit:
            notes.extend(
                f"{cluster.name}: {text}"
                for cluster in snapshot.clusters
                if outcome.assignment.get(cluster.name)
                for text in audit.get(cluster.name, ())
            )
        notes.extend(state.data.get(f"{BUDGETS}.audit", ()))
        return Decision(
            workload=workload,
            snapshot=snapshot,
            profile=self.profile,
            policy_sources=tuple(self.policies.sources()),
            policy_versions=self.policies.versions(),
            now=now,
            placed=placed,
            assignment=outcome.assignment,
            summary=_summary(snapshot, filtered, outcome),
            verdicts=Verdicts(snapshot, outcome.assignment, filtered.rejected, scores, audit),
            cost=cost,
            alternative=alternative,
            remedies=() if placed else tuple(self._remedies(state, filtered, outcome)),
            notes=tuple(dict.fromkeys(notes)),
        )

    def decide_many(
        self, snapshot: InventorySnapshot, workloads: Iterable[WorkloadSpec], now: datetime
    ) -> list[Decision]:
        """Decide workloads one after another; each sees what earlier ones consumed."""
        decisions: list[Decision] = []
        for workload in workloads:
            decision = self.decide(snapshot, workload, now)
            decisions.append(decision)
            if decision.placed:
                snapshot = snapshot.with_placement(workload, decision.assignment)
        return decisions

    def _candidates(self, state: CycleState, ranked: Sequence[ClusterSnapshot]) -> list[Candidate]:
        unbounded = state.workload.replicas
        return [
            Candidate(c.name, c.zones, state.fit_replicas.get(c.name, unbounded)) for c in ranked
        ]

    def _assign(
        self, state: CycleState, ranked: Sequence[ClusterSnapshot], candidates: list[Candidate]
    ) -> _Outcome:
        workload = state.workload
        if not ranked:
            return _Outcome({}, "no cluster passes every filter", (), None)
        try:
            preferred = assign(workload.placement, workload.replicas, candidates)
        except AssignmentError as exc:
            return _Outcome({}, str(exc), (), None)
        refusal = self.framework.run_checks(state, preferred)
        if refusal is None:
            return _Outcome(preferred, "", (), None)
        by_cost = sorted(
            ranked, key=lambda c: replica_hour_cost(c, workload.requests)
        )  # stable: equal costs keep their rank
        try:
            cheapest = assign(
                workload.placement,
                workload.replicas,
                self._candidates(state, by_cost),
                aggregate=True,
            )
        except AssignmentError:
            return _Outcome({}, refusal.message, (), None)
        cheapest_refusal = self.framework.run_checks(state, cheapest)
        estimate = placement_cost(state.snapshot, workload.requests, cheapest)
        if cheapest_refusal is None:
            note = (
                f"the best-ranked placement {_format(preferred)} was refused "
                f"({refusal.message}); chose the cheapest compliant placement instead"
            )
            return _Outcome(cheapest, "", (note,), None)
        named = Alternative(
            f"cheapest placement {_format(cheapest)}, also refused: {cheapest_refusal.message}",
            cheapest,
            estimate,
        )
        return _Outcome({}, refusal.message, (), named)

    def _next_best(
        self, state: CycleState, candidates: list[Candidate], chosen: Mapping[str, int]
    ) -> Alternative | None:
        main = max(chosen, key=lambda name: chosen[name])
        others = [c for c in candidates if c.name != main]
        if not others:
            return None
        workload = state.workload
        try:
            assignment = assign(workload.placement, workload.replicas, others)
        except AssignmentError:
            return None
        if self.framework.run_checks(state, assignment) is not None:
            return None
        cost: CostEstimate = placement_cost(state.snapshot, workload.requests, assignment)
        return Alternative(f"without {main}: {_format(assignment)}", assignment, cost)

    def _remedies(self, state: CycleState, filtered: FilterResult, outcome: _Outcome) -> list[str]:
        """What would make the workload placeable: single obstacles per cluster first."""
        capacity: list[tuple[tuple[int, ...], str]] = []
        other: list[str] = []
        by_name = state.snapshot.by_name()
        for name in filtered.rejected:
            cluster = by_name[name]
            statuses = self.framework.all_rejections(state, cluster)
            if len(statuses) != 1:
                continue
            status = statuses[0]
            if status.plugin == CAPACITY:
                held = state.workload.current.get(name, 0)
                missing = shortfall(cluster, state.demand, state.replicas_per_cluster, held)
                capacity.append((tuple(sorted(missing.values())), f"{name}: {status.remedy}"))
            else:
                other.append(f"{name}: {status.remedy}")
        remedies = [text for _, text in sorted(capacity)] + sorted(other)
        if filtered.feasible and outcome.failure:
            remedies.insert(0, f"the {len(filtered.feasible)} feasible cluster(s): "
                               f"{outcome.failure}")  # fmt: skip
        if len(remedies) > _REMEDIES:
            remedies = [*remedies[:_REMEDIES], f"and {len(remedies) - _REMEDIES} more"]
        return remedies


def _format(assignment: Mapping[str, int]) -> str:
    parts = [f"{name} ({count})" for name, count in sorted(assignment.items())]
    if len(parts) > _LISTED:
        return f"{', '.join(parts[:_LISTED])} and {len(parts) - _LISTED} more clusters"
    return ", ".join(parts)


def _reasons(rejected: Mapping[str, Status]) -> str:
    counts = Counter(status.reason for status in rejected.values())
    return ", ".join(
        f"{count} {reason}" for reason, count in sorted(counts.items(), key=lambda i: (-i[1], i[0]))
    )


def _summary(snapshot: InventorySnapshot, filtered: FilterResult, outcome: _Outcome) -> str:
    head = f"{len(filtered.feasible)}/{len(snapshot.clusters)} clusters fit"
    reasons = _reasons(filtered.rejected)
    if reasons:
        head = f"{head}: {reasons}"
    if outcome.assignment:
        total = sum(outcome.assignment.values())
        return f"{head}; placed {total} replica(s) on {_format(outcome.assignment)}"
    if filtered.feasible:
        return f"{head}; cannot place: {outcome.failure}"
    return head
