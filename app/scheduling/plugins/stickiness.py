"""Stickiness score: clusters the workload already runs on score 100, to avoid needless moves."""

from collections.abc import Mapping
from typing import Any

from app.scheduling.framework import MAX_SCORE, CycleState
from app.scheduling.types import ClusterSnapshot

NAME = "Stickiness"


class StickinessScore:
    """Prefers the current placement: 100 where replicas run now, 0 elsewhere."""

    name = NAME

    def score(self, state: CycleState, cluster: ClusterSnapshot) -> float:
        """Whether the workload runs on ``cluster`` now."""
        return MAX_SCORE if state.workload.current.get(cluster.name) else 0

    def uniform_score(self, state: CycleState) -> float | None:
        """0 everywhere when the workload runs nowhere yet."""
        return 0 if not state.workload.current else None

    def normalize(self, state: CycleState, scores: dict[str, float]) -> dict[str, int]:
        """Already 0-100."""
        return {name: int(value) for name, value in scores.items()}


def new(args: Mapping[str, Any]) -> StickinessScore:
    """Factory for the registry."""
    return StickinessScore()
