"""Cost score: cheapest marginal replica-hour first; prepaid on-prem capacity costs nothing."""

from collections.abc import Hashable, Mapping
from typing import Any

from app.scheduling.cost import replica_hour_cost
from app.scheduling.framework import CycleState, normalize_linear
from app.scheduling.types import ClusterSnapshot

NAME = "Cost"


class CostScore:
    """Scores 100 for the cheapest feasible cluster and 0 for the most expensive."""

    name = NAME

    def equivalence(self, state: CycleState) -> Hashable:
        """The per-replica requests."""
        return state.workload.requests

    def score(self, state: CycleState, cluster: ClusterSnapshot) -> float:
        """The marginal cost of one replica-hour there, in micro-units."""
        return replica_hour_cost(cluster, state.workload.requests)

    def uniform_score(self, state: CycleState) -> float | None:
        """Prices differ per cluster."""
        return None

    def normalize(self, state: CycleState, scores: dict[str, float]) -> dict[str, int]:
        """Invert: lower cost, higher score."""
        return normalize_linear(scores, higher_is_better=False)


def new(args: Mapping[str, Any]) -> CostScore:
    """Factory for the registry."""
    return CostScore()
