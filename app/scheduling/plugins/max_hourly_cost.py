"""MaxHourlyCost: the workload's ``maxHourlyCost`` caps its attributed cost per hour.

As a filter it rejects clusters where the replicas a cluster must hold already cost more
than the cap; as a placement check it refuses an assignment whose total is over the cap.
"""

from collections.abc import Mapping
from typing import Any

from app.scheduling.cost import attributed_hour_cost, format_money, placement_cost
from app.scheduling.framework import CycleState
from app.scheduling.status import Code, Status
from app.scheduling.types import ClusterSnapshot

NAME = "MaxHourlyCost"


class MaxHourlyCost:
    """Filter and placement check for ``placement.max_hourly_cost``."""

    name = NAME
    static = False

    def filter(self, state: CycleState, cluster: ClusterSnapshot) -> Status | None:
        """Reject a cluster where the minimum useful share of the workload is over the cap."""
        cap = state.workload.placement.max_hourly_cost
        if cap is None:
            return None
        cost = attributed_hour_cost(cluster, state.workload.requests) * state.replicas_per_cluster
        if cost <= cap:
            return None
        currency = cluster.price.currency
        return Status(
            Code.UNRESOLVABLE,
            NAME,
            f"costs {format_money(cost, currency)}/h, over maxHourlyCost "
            f"{format_money(cap, currency)}/h",
            "cost more than maxHourlyCost",
            f"raise maxHourlyCost to {format_money(cost, currency)}",
        )

    def check(self, state: CycleState, assignment: Mapping[str, int]) -> Status | None:
        """Refuse an assignment whose total attributed hourly cost is over the cap."""
        cap = state.workload.placement.max_hourly_cost
        if cap is None:
            return None
        estimate = placement_cost(state.snapshot, state.workload.requests, assignment)
        if estimate.hourly <= cap:
            return None
        return Status(
            Code.UNRESOLVABLE,
            NAME,
            f"the placement costs {format_money(estimate.hourly, estimate.currency)}/h, over "
            f"maxHourlyCost {format_money(cap, estimate.currency)}/h",
            "costs more than maxHourlyCost",
            f"raise maxHourlyCost to {format_money(estimate.hourly, estimate.currency)}",
        )


def new(args: Mapping[str, Any]) -> MaxHourlyCost:
    """Factory for the registry."""
    return MaxHourlyCost()
