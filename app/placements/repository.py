"""Queries that read the whole inventory for a decision: clusters and what is placed on them."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, text

from app.db.models import Cluster, Workload, WorkloadPlacement
from app.db.repository import Repository

# Every decision that changes desired placements holds this transaction-scoped lock from
# reading the inventory to writing its answer, so two decisions never spend the same capacity.
PLACEMENT_LOCK_ID = 0x504C4143454D4E54


@dataclass(frozen=True, slots=True)
class PlacedRow:
    """One desired placement with the placed workload's scheduler form."""

    workload_id: uuid.UUID
    version: int
    cluster_id: uuid.UUID
    replicas: int
    spec: dict[str, Any]


SNAPSHOT_COLUMNS = (
    Cluster.id,
    Cluster.name,
    Cluster.kind,
    Cluster.provider,
    Cluster.region,
    Cluster.country,
    Cluster.zones,
    Cluster.jurisdictions,
    Cluster.labels,
    Cluster.taints,
    Cluster.state,
    Cluster.capacity,
    Cluster.allocated_external,
    Cluster.price_book_id,
)


_FINGERPRINT = text(
    """
    SELECT md5(concat_ws('#',
      (SELECT string_agg(concat_ws(',', id, name, kind, provider, region, country, zones,
                                   jurisdictions, labels, taints, state, capacity,
                                   allocated_external, price_book_id, version), '|' ORDER BY id)
         FROM clusters),
      (SELECT string_agg(concat_ws(',', p.workload_id, w.version, p.cluster_id, p.replicas),
                         '|' ORDER BY p.workload_id, p.cluster_id)
         FROM workload_placements p JOIN workloads w ON w.id = p.workload_id
        WHERE p.replicas > 0),
      (SELECT string_agg(concat_ws(',', price_book_id, version), '|'
                         ORDER BY price_book_id, version)
         FROM price_book_versions WHERE effective_from <= :at)))
    """
)


class InventoryRepository(Repository):
    """Reads the clusters and every desired placement, one query each."""

    async def clusters(self) -> Sequence[Row[Any]]:
        """What a snapshot reads of every cluster, as plain rows (entities cost more to load
        than the decision takes)."""
        return (await self.session.execute(select(*SNAPSHOT_COLUMNS).order_by(Cluster.name))).all()

    async def placements(self) -> list[PlacedRow]:
        query = (
            select(
                WorkloadPlacement.workload_id,
                Workload.version,
                WorkloadPlacement.cluster_id,
                WorkloadPlacement.replicas,
                Workload.spec,
            )
            .join(Workload, Workload.id == WorkloadPlacement.workload_id)
            .where(WorkloadPlacement.replicas > 0)
            .order_by(WorkloadPlacement.workload_id, WorkloadPlacement.cluster_id)
        )
        return [PlacedRow(*row) for row in (await self.session.execute(query)).all()]

    async def fingerprint(self, at: datetime) -> str:
        """A digest of everything a snapshot at ``at`` reads, in one statement (one consistent
        view): cluster rows, desired placements with their workloads' versions, and which
        price book versions are in effect."""
        return str(await self.session.scalar(_FINGERPRINT, {"at": at}))

    async def lock_placements(self) -> None:
        """Wait for, then hold until commit, the right to change desired placements."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(:id)"), {"id": PLACEMENT_LOCK_ID}
        )
