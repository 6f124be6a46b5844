"""WorkloadAffinity: co-locate with (or keep away from) other workloads, per cluster.

Required terms filter: affinity needs a matching workload on the cluster (unless none exists
anywhere and the workload matches its own term, so the first of a group can be placed);
anti-affinity needs none. Preferred terms score: + weight per affinity term satisfied,
- weight per anti-affinity term violated.
"""

from collections.abc import Mapping
from typing import Any

from app.scheduling.framework import CycleState, normalize_linear
from app.scheduling.status import Code, Status
from app.scheduling.types import AffinityTerm, ClusterSnapshot, PlacementSpec

NAME = "WorkloadAffinity"


def _hosts(state: CycleState) -> dict[int, frozenset[str]]:
    """Cluster names hosting a workload matched by each term (by term identity), cached."""
    cached: dict[int, frozenset[str]] | None = state.data.get(NAME)
    if cached is not None:
        return cached
    workload = state.workload
    terms = (*workload.placement.affinity, *workload.placement.anti_affinity)
    cached = {}
    for term in terms:
        names: set[str] = set()
        for other in state.snapshot.workloads:
            if other.key != workload.key and term.applies_to(workload.namespace, other):
                names.update(n for n, r in other.current.items() if r > 0)
        cached[id(term)] = frozenset(names)
    state.data[NAME] = cached
    return cached


def _preferred(placement: PlacementSpec) -> bool:
    terms = (*placement.affinity, *placement.anti_affinity)
    return any(term.weight is not None for term in terms)


def _self_match(state: CycleState, term: AffinityTerm) -> bool:
    return term.applies_to(state.workload.namespace, state.workload)


class WorkloadAffinity:
    """Filter for required terms, score for preferred ones."""

    name = NAME
    static = False

    def filter(self, state: CycleState, cluster: ClusterSnapshot) -> Status | None:
        """Check every required affinity and anti-affinity term."""
        placement = state.workload.placement
        if not placement.affinity and not placement.anti_affinity:
            return None
        hosts = _hosts(state)
        for term in placement.affinity:
            if term.weight is not None or cluster.name in hosts[id(term)]:
                continue
            if not hosts[id(term)] and _self_match(state, term):
                continue
            return Status(
                Code.UNRESOLVABLE,
                NAME,
                f"runs no workload matching the required affinity {term.selector}",
                "lack a workload the affinity requires",
                f"place a workload matching {term.selector} on {cluster.name}",
            )
        for term in placement.anti_affinity:
            if term.weight is None and cluster.name in hosts[id(term)]:
                return Status(
                    Code.UNRESOLVABLE,
                    NAME,
                    f"runs a workload matching the anti-affinity {term.selector}",
                    "run a workload the anti-affinity excludes",
                    f"move the workloads matching {term.selector} off {cluster.name}",
                )
        return None

    def score(self, state: CycleState, cluster: ClusterSnapshot) -> float:
        """Sum preferred weights: affinity met counts up, anti-affinity met counts down."""
        placement = state.workload.placement
        if not placement.affinity and not placement.anti_affinity:
            return 0
        hosts = _hosts(state)
        total = 0
        for term in placement.affinity:
            if term.weight is not None and cluster.name in hosts[id(term)]:
                total += term.weight
        for term in placement.anti_affinity:
            if term.weight is not None and cluster.name in hosts[id(term)]:
                total -= term.weight
        return total

    def uniform_score(self, state: CycleState) -> float | None:
        """0 everywhere when the workload has no preferred (weighted) term."""
        return None if _preferred(state.workload.placement) else 0

    def normalize(self, state: CycleState, scores: dict[str, float]) -> dict[str, int]:
        """Best-matching cluster scores 100."""
        return normalize_linear(scores, higher_is_better=True)


def new(args: Mapping[str, Any]) -> WorkloadAffinity:
    """Factory for the registry."""
    return WorkloadAffinity()
