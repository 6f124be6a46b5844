"""Queries that read the whole inventory for a decision: clusters and what is placed on them."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text

from app.db.models import Cluster, Workload, WorkloadPlacement
from app.db.repository import Repository

# Every decision that changes desired placements holds this transaction-scoped lock from
# reading the inventory to writing its answer, so two decisions never spend the same capacity.
PLACEMENT_LOCK_ID = 0x504C4143454D4E54


@dataclass(frozen=True, slots=True)
class PlacedRow:
    """One desired placement with the placed workload's scheduler form."""

    workload_id: uuid.UUID
    cluster_id: uuid.UUID
    replicas: int
    spec: dict[str, Any]


class InventoryRepository(Repository):
    """Reads the clusters and every desired placement, one query each."""

    async def clusters(self) -> Sequence[Cluster]:
        return (await self.session.scalars(select(Cluster).order_by(Cluster.name))).all()

    async def placements(self) -> list[PlacedRow]:
        query = (
            select(
                WorkloadPlacement.workload_id,
                WorkloadPlacement.cluster_id,
                WorkloadPlacement.replicas,
                Workload.spec,
            )
            .join(Workload, Workload.id == WorkloadPlacement.workload_id)
            .where(WorkloadPlacement.replicas > 0)
        )
        return [PlacedRow(*row) for row in (await self.session.execute(query)).all()]

    async def lock_placements(self) -> None:
        """Wait for, then hold until commit, the right to change desired placements."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(:id)"), {"id": PLACEMENT_LOCK_ID}
        )
