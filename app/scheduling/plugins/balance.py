"""Balance score: spread load (``mode: balance``, default) or pack it (``mode: binpack``).

Utilization is the larger of the CPU and memory shares requested on the cluster after it
takes the replicas it must hold, as in kube-scheduler's LeastAllocated/MostAllocated.
"""

from collections.abc import Hashable, Mapping
from typing import Any

from app.scheduling.framework import MAX_SCORE, CycleState
from app.scheduling.types import CPU, MEMORY, ClusterSnapshot

NAME = "Balance"


class BalanceScore:
    """Least-allocated (balance) or most-allocated (binpack) clusters score highest."""

    name = NAME

    def __init__(self, binpack: bool) -> None:
        self.binpack = binpack

    def equivalence(self, state: CycleState) -> Hashable:
        """What a replica needs and how many a cluster must hold."""
        return state.demand, state.replicas_per_cluster

    def score(self, state: CycleState, cluster: ClusterSnapshot) -> float:
        """Return the utilization after placement, 0-1."""
        extra = state.replicas_per_cluster
        worst = 0.0
        for resource in (CPU, MEMORY):
            capacity = cluster.capacity.amount(resource)
            if capacity > 0:
                used = cluster.allocated.amount(resource) + state.demand.amount(resource) * extra
                worst = max(worst, used / capacity)
        return min(worst, 1.0)

    def uniform_score(self, state: CycleState) -> float | None:
        """Utilization differs per cluster."""
        return None

    def normalize(self, state: CycleState, scores: dict[str, float]) -> dict[str, int]:
        """Map utilization to 0-100, inverted unless bin-packing."""
        if self.binpack:
            return {n: round(MAX_SCORE * u) for n, u in scores.items()}
        return {n: round(MAX_SCORE * (1 - u)) for n, u in scores.items()}


def new(args: Mapping[str, Any]) -> BalanceScore:
    """Factory for the registry: ``args["mode"]`` is ``balance`` or ``binpack``."""
    mode = args.get("mode", "balance")
    if mode not in ("balance", "binpack"):
        raise ValueError(f"Balance mode must be balance or binpack, not {mode!r}")
    return BalanceScore(binpack=mode == "binpack")
