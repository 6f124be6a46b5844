"""A workload's readable history: what Placer decided and what the clusters did with it."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import Workload, WorkloadEvent


async def record_event(
    session: AsyncSession,
    workload_id: uuid.UUID,
    kind: str,
    message: str,
    *,
    cluster: str | None = None,
    generation: int | None = None,
) -> None:
    """Append an event (``decided``, ``unschedulable``, ``applied``, ``pruned``, ``ready``,
    ``failed``, ``retried``...; ``WorkloadEventRead.kind`` lists them all) in the caller's
    transaction, stamped with ``generation``, by default the workload's current
    ``desired_generation``."""
    if generation is None:
        generation = await session.scalar(
            select(Workload.desired_generation).where(Workload.id == workload_id)
        )
    session.add(
        WorkloadEvent(
            workload_id=workload_id,
            at=utcnow(),
            kind=kind,
            cluster=cluster,
            message=message,
            generation=generation or 0,
        )
    )
