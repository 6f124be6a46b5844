"""ClusterState filter: only ``Ready`` clusters take new replicas."""

from collections.abc import Hashable, Mapping
from typing import Any

from app.scheduling.framework import CycleState
from app.scheduling.status import Code, Status
from app.scheduling.types import ClusterSnapshot, ClusterState

NAME = "ClusterState"
_WHY = {
    ClusterState.CORDONED: "is cordoned: it takes no new placements",
    ClusterState.DRAINING: "is draining: everything is moving away from it",
    ClusterState.UNREACHABLE: "is unreachable: health checks fail",
}


class ClusterStateFilter:
    """Rejects Cordoned, Draining and Unreachable clusters."""

    name = NAME
    static = True

    def equivalence(self, state: CycleState) -> Hashable:
        """Depends on the cluster alone."""
        return None

    def filter(self, state: CycleState, cluster: ClusterSnapshot) -> Status | None:
        """Pass ``Ready`` clusters only."""
        if cluster.state is ClusterState.READY:
            return None
        return Status(
            Code.UNRESOLVABLE,
            NAME,
            f"cluster {_WHY[cluster.state]}",
            str(cluster.state).lower(),
            f"set cluster {cluster.name} back to Ready",
        )


def new(args: Mapping[str, Any]) -> ClusterStateFilter:
    """Factory for the registry."""
    return ClusterStateFilter()
