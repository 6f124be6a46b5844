"""ClusterSelector filter: the workload's label selector must match the cluster's labels."""

from collections.abc import Hashable, Mapping
from typing import Any

from app.scheduling.framework import CycleState
from app.scheduling.status import Code, Status
from app.scheduling.types import ClusterSnapshot

NAME = "ClusterSelector"


class ClusterSelectorFilter:
    """Rejects clusters whose labels do not satisfy ``placement.cluster_selector``."""

    name = NAME
    static = True

    def equivalence(self, state: CycleState) -> Hashable:
        """The workload's cluster selector."""
        return state.workload.placement.cluster_selector

    def filter(self, state: CycleState, cluster: ClusterSnapshot) -> Status | None:
        """Pass when there is no selector or every requirement holds."""
        selector = state.workload.placement.cluster_selector
        if selector is None or selector.matches(cluster.labels):
            return None
        failing = [str(r) for r in selector.requirements if not r.matches(cluster.labels)]
        return Status(
            Code.UNRESOLVABLE,
            NAME,
            f"labels do not satisfy the cluster selector: {', '.join(failing)}",
            "do not match the cluster selector",
            f"label cluster {cluster.name} with {', '.join(failing)}",
        )


def new(args: Mapping[str, Any]) -> ClusterSelectorFilter:
    """Factory for the registry."""
    return ClusterSelectorFilter()
