"""PolicyRequire filter: enforced ``require`` rules of matching policies are hard constraints.

Audit-mode and excepted violations do not filter; they are kept in the cycle state so the
decision reports them if the cluster is chosen. A rule that cannot be evaluated fails closed.
"""

from collections.abc import Hashable, Mapping
from typing import Any

from app.scheduling.framework import CycleState
from app.scheduling.status import Code, Status
from app.scheduling.types import ClusterSnapshot

NAME = "PolicyRequire"


class PolicyRequireFilter:
    """Rejects clusters that break an enforced, unexcepted ``require`` rule."""

    name = NAME
    static = True

    def equivalence(self, state: CycleState) -> Hashable:
        """The applicable ``require`` rules, their waivers and the workload fields they read."""
        return state.applied.require_key

    def filter(self, state: CycleState, cluster: ClusterSnapshot) -> Status | None:
        """Evaluate every applicable ``require`` rule (memoized) against ``cluster``."""
        if not state.applied.require:
            return None
        verdicts = state.policies.violations(state.applied, cluster)
        if not verdicts:
            return None
        blocking = [v for v in verdicts if v.blocks]
        if not blocking:
            state.audit[cluster.name] = verdicts
            return None
        first = blocking[0]
        return Status(
            Code.ERROR if first.error else Code.UNRESOLVABLE,
            NAME,
            "; ".join(v.describe() for v in blocking),
            f"rejected by {first.policy}",
            " or ".join(f"an exception to rule {v.rule} of policy {v.policy}" for v in blocking),
        )


def new(args: Mapping[str, Any]) -> PolicyRequireFilter:
    """Factory for the registry."""
    return PolicyRequireFilter()
