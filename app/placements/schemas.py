"""API shapes of dry-runs and joint batch placement (PRODUCT.md §6)."""

import uuid
from typing import Any

from pydantic import Field

from app.api.schemas import ApiModel, ApiResponse


class BatchRequest(ApiModel):
    """Which workloads to place jointly: the given ``Pending`` or ``Unschedulable`` ones, or,
    without ``workloadIds``, every one in those statuses."""

    workload_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=1000)
    time_limit_seconds: float = Field(
        default=10.0, gt=0, le=60, description="How long the optimizer may search."
    )


class BatchPlaced(ApiResponse):
    """A workload the batch placed."""

    workload_id: uuid.UUID
    workload: str = Field(description="`namespace/name`.")
    decision_id: uuid.UUID
    assignment: dict[str, int]
    marginal_hourly_cost: int = Field(description="Micro-units of the price book currency.")


class BatchUnplaced(ApiResponse):
    """A workload the batch could not place, with the reason per cluster."""

    workload_id: uuid.UUID
    workload: str
    decision_id: uuid.UUID
    summary: str
    reasons: dict[str, str]


class BatchReport(ApiResponse):
    """The optimizer's answer and how good it is.

    ``cost`` is the objective in micro-units per hour (marginal spend minus policy
    preferences); ``lowerBound`` is a proven lower bound on it and ``gap`` the relative
    distance (``null`` when the answer leaves more workloads unplaced than the proven
    minimum). ``greedy`` is what placing one workload at a time would have achieved.
    """

    status: str = Field(examples=["optimal", "feasible", "infeasible", "timed_out"])
    cost: int
    lower_bound: float
    gap: float | None
    marginal_hourly_cost: int
    solve_seconds: float
    greedy: dict[str, Any]
    placed: list[BatchPlaced]
    unplaced: list[BatchUnplaced]
