"""CapacityFit filter: the cluster's free capacity must hold the replicas it would get.

Free capacity is ``capacity - allocated`` for every resource the workload requests (one pod
per replica included), plus what the workload itself holds there now (it is being
re-decided). ``allocated`` already includes earlier decisions of the same run, because
:meth:`InventorySnapshot.with_placement` folds each decision into the next snapshot. The
number of replicas that fit is left in ``state.fit_replicas`` for replica assignment.
"""

from collections.abc import Mapping
from typing import Any

from app.kubetypes.quantity import format_resource
from app.scheduling.framework import CycleState
from app.scheduling.status import Code, Status
from app.scheduling.types import CPU, GPU, PODS, ClusterSnapshot, Resources

NAME = "CapacityFit"
_UNITS = {CPU: "CPU", GPU: "GPU", PODS: "pods"}


def describe(resource: str, amount: int) -> str:
    """``describe("cpu", 4000) == "4 CPU"``, ``describe("memory", 2**33) == "8Gi memory"``."""
    return f"{format_resource(resource, amount)} {_UNITS.get(resource, resource)}"


def fit_replicas(cluster: ClusterSnapshot, demand: Resources, held: int = 0) -> int:
    """Return how many replicas of ``demand`` fit in ``cluster``, counting ``held`` replicas
    the workload already occupies there as free."""
    fit: int | None = None
    free_amounts = cluster.free_amounts()
    for resource, amount in demand.items():
        if amount <= 0:
            continue
        free = free_amounts.get(resource, 0) + held * amount
        count = free // amount if free > 0 else 0
        if fit is None or count < fit:
            fit = count
    return 2**31 if fit is None else fit


def shortfall(cluster: ClusterSnapshot, demand: Resources, replicas: int, held: int) -> Resources:
    """Return what ``cluster`` lacks, per resource, to hold ``replicas`` more replicas."""
    missing: dict[str, int] = {}
    for resource, amount in demand.items():
        lack = amount * replicas - max(cluster.free(resource) + held * amount, 0)
        if lack > 0:
            missing[resource] = lack
    return Resources(missing)


class CapacityFitFilter:
    """Rejects clusters that cannot hold the replicas a cluster must take for this strategy."""

    name = NAME
    static = False

    def filter(self, state: CycleState, cluster: ClusterSnapshot) -> Status | None:
        """Record how many replicas fit; reject when fewer than needed."""
        held = state.workload.current.get(cluster.name, 0)
        fit = fit_replicas(cluster, state.demand, held)
        state.fit_replicas[cluster.name] = fit
        needed = state.replicas_per_cluster
        if fit >= needed:
            return None
        missing = shortfall(cluster, state.demand, needed, held)
        resource = next(iter(sorted(missing)))
        wanted = ", ".join(describe(r, state.demand.amount(r) * needed) for r in sorted(missing))
        lacking = ", ".join(describe(r, a) for r, a in sorted(missing.items()))
        return Status(
            Code.UNSCHEDULABLE,
            NAME,
            f"needs {wanted} for {needed} replica(s) but lacks {lacking}",
            f"lack {describe(resource, state.demand.amount(resource) * needed)}",
            f"{lacking} more free capacity on {cluster.name}",
        )


def new(args: Mapping[str, Any]) -> CapacityFitFilter:
    """Factory for the registry."""
    return CapacityFitFilter()
