"""TaintToleration: untolerated NoSchedule/NoExecute taints filter, PreferNoSchedule scores."""

from collections.abc import Hashable, Mapping
from typing import Any

from app.kubetypes.taints import TaintEffect, untolerated_taints
from app.scheduling.framework import CycleState, normalize_linear
from app.scheduling.status import Code, Status
from app.scheduling.types import ClusterSnapshot

NAME = "TaintToleration"


class TaintToleration:
    """Filter: every NoSchedule/NoExecute taint must be tolerated. Score: fewer untolerated
    PreferNoSchedule taints is better."""

    name = NAME
    static = True

    def equivalence(self, state: CycleState) -> Hashable:
        """The workload's tolerations."""
        return state.workload.placement.tolerations

    def filter(self, state: CycleState, cluster: ClusterSnapshot) -> Status | None:
        """Reject clusters with a hard taint the workload does not tolerate."""
        if not cluster.taints:
            return None
        hard = [
            t
            for t in untolerated_taints(state.workload.placement.tolerations, cluster.taints)
            if t.effect is not TaintEffect.PREFER_NO_SCHEDULE
        ]
        if not hard:
            return None
        shown = ", ".join(str(t) for t in hard)
        return Status(
            Code.UNRESOLVABLE,
            NAME,
            f"has taints the workload does not tolerate: {shown}",
            f"have the untolerated taint {hard[0]}",
            f"add a toleration for {shown}",
        )

    def score(self, state: CycleState, cluster: ClusterSnapshot) -> float:
        """Count untolerated PreferNoSchedule taints."""
        if not cluster.taints:
            return 0
        return sum(
            1
            for t in untolerated_taints(state.workload.placement.tolerations, cluster.taints)
            if t.effect is TaintEffect.PREFER_NO_SCHEDULE
        )

    def uniform_score(self, state: CycleState) -> float | None:
        """Taints differ per cluster."""
        return None

    def normalize(self, state: CycleState, scores: dict[str, float]) -> dict[str, int]:
        """Fewest untolerated taints scores 100."""
        return normalize_linear(scores, higher_is_better=False)


def new(args: Mapping[str, Any]) -> TaintToleration:
    """Factory for the registry."""
    return TaintToleration()
