"""PolicyPrefer score: the share of matching enforced ``prefer`` weight a cluster earns."""

from collections.abc import Hashable, Mapping
from typing import Any

from app.scheduling.framework import MAX_SCORE, CycleState
from app.scheduling.types import ClusterSnapshot

NAME = "PolicyPrefer"


class PolicyPreferScore:
    """Scores ``100 * earned / possible`` prefer weight; 0 everywhere when no rule applies."""

    name = NAME

    def equivalence(self, state: CycleState) -> Hashable:
        """The applicable ``prefer`` rules and the workload fields they read."""
        return state.applied.prefer_key

    def score(self, state: CycleState, cluster: ClusterSnapshot) -> float:
        """Sum the weights of the satisfied preferences."""
        if not state.applied.prefer:
            return 0
        return state.policies.preference(state.applied, cluster)

    def uniform_score(self, state: CycleState) -> float | None:
        """0 everywhere when no preference applies to the workload."""
        return 0 if not state.applied.prefer else None

    def normalize(self, state: CycleState, scores: dict[str, float]) -> dict[str, int]:
        """Divide by the total weight a cluster could earn."""
        total = state.applied.prefer_weight_total
        if not total:
            return dict.fromkeys(scores, 0)
        return {name: round(MAX_SCORE * value / total) for name, value in scores.items()}


def new(args: Mapping[str, Any]) -> PolicyPreferScore:
    """Factory for the registry."""
    return PolicyPreferScore()
