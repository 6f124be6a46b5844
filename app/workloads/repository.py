"""Queries on workloads, their desired placements, decisions and events."""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Row,
    delete,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert

from app.db.labels import selector_clauses
from app.db.models import (
    Cluster,
    Decision,
    PriceBook,
    Workload,
    WorkloadClusterStatus,
    WorkloadEvent,
    WorkloadObject,
    WorkloadPlacement,
)
from app.db.repository import Repository
from app.kubetypes import LabelSelector

NOTHING_DEPLOYED = ("Planned", "Removed")
"""Reconciler phases in which none of the workload's objects exist in the cluster."""


@dataclass(frozen=True)
class WorkloadFilter:
    """Which workloads to list; every given criterion must hold."""

    namespace: str | None = None
    team: str | None = None
    status: str | None = None
    selector: LabelSelector | None = None


@dataclass(frozen=True, slots=True)
class PlacementView:
    """A workload's desired replicas on one cluster, as reads show them.

    ``ready`` is None before the reconciler has reported; ``price_book`` None when the cluster
    has no price book.
    """

    cluster: str
    replicas: int
    ready: int | None
    price_book: str | None


ObjectIdentity = tuple[str, str]
"""A Kubernetes object within a workload's namespace: ``(kind, name)``."""


@dataclass(frozen=True, slots=True)
class ObjectOwner:
    """The workload that holds an object's name; ``workload_id`` None when the holder went
    away between the claim and this read."""

    kind: str
    name: str
    workload_id: uuid.UUID | None
    workload_name: str | None
    deleting: bool


class WorkloadRepository(Repository):
    """Reads and writes workloads and their children; pages load children in one query."""

    async def by_id(self, workload_id: uuid.UUID, *, for_update: bool = False) -> Workload | None:
        query = select(Workload).where(Workload.id == workload_id)
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def name_taken(self, namespace: str, name: str) -> bool:
        query = select(Workload.id).where(Workload.namespace == namespace, Workload.name == name)
        return await self.session.scalar(query) is not None

    async def list_page(
        self, criteria: WorkloadFilter, *, after: tuple[str, str] | None, limit: int
    ) -> Sequence[Workload]:
        conditions: list[ColumnElement[bool]] = []
        for column, wanted in (
            (Workload.namespace, criteria.namespace),
            (Workload.team, criteria.team),
            (Workload.status, criteria.status),
        ):
            if wanted is not None:
                conditions.append(column == wanted)
        if criteria.selector is not None:
            conditions.extend(selector_clauses(Workload.labels, criteria.selector))
        if after is not None:
            conditions.append(tuple_(Workload.namespace, Workload.name) > tuple_(*after))
        query = (
            select(Workload)
            .where(*conditions)
            .order_by(Workload.namespace, Workload.name)
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()

    async def ids_with_status(self, statuses: Iterable[str]) -> list[uuid.UUID]:
        """Workloads in one of ``statuses`` and not being deleted, oldest first."""
        query = (
            select(Workload.id)
            .where(Workload.status.in_(list(statuses)), Workload.deletion_requested.is_(False))
            .order_by(Workload.created_at, Workload.id)
        )
        return list((await self.session.scalars(query)).all())

    async def lock_many(self, workload_ids: Sequence[uuid.UUID]) -> Sequence[Workload]:
        query = (
            select(Workload)
            .where(Workload.id.in_(list(workload_ids)))
            .order_by(Workload.created_at, Workload.id)
            .with_for_update()
        )
        return (await self.session.scalars(query)).all()

    def add(self, item: Workload | Decision | WorkloadEvent | WorkloadPlacement) -> None:
        self.session.add(item)

    async def delete(self, workload: Workload) -> None:
        await self.session.execute(delete(Workload).where(Workload.id == workload.id))

    async def placements_of(
        self, workload_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, list[PlacementView]]:
        """Per workload, by cluster name: where it is desired, how many replicas are ready
        there as the reconciler last read them, and the cluster's price book."""
        query = (
            select(
                WorkloadPlacement.workload_id,
                Cluster.name,
                WorkloadPlacement.replicas,
                WorkloadClusterStatus.ready_replicas,
                PriceBook.name,
            )
            .join(Cluster, Cluster.id == WorkloadPlacement.cluster_id)
            .outerjoin(PriceBook, PriceBook.id == Cluster.price_book_id)
            .outerjoin(
                WorkloadClusterStatus,
                (WorkloadClusterStatus.workload_id == WorkloadPlacement.workload_id)
                & (WorkloadClusterStatus.cluster_id == WorkloadPlacement.cluster_id),
            )
            .where(WorkloadPlacement.workload_id.in_(list(workload_ids)))
            .order_by(WorkloadPlacement.workload_id, Cluster.name)
        )
        found: dict[uuid.UUID, list[PlacementView]] = {}
        for workload_id, cluster, replicas, ready, book in await self.session.execute(query):
            found.setdefault(workload_id, []).append(PlacementView(cluster, replicas, ready, book))
        return found

    async def may_be_deployed(self, workload_id: uuid.UUID) -> bool:
        """Whether the reconciler may have created objects of the workload in some cluster."""
        query = select(WorkloadClusterStatus.cluster_id).where(
            WorkloadClusterStatus.workload_id == workload_id,
            WorkloadClusterStatus.phase.not_in(NOTHING_DEPLOYED),
        )
        return await self.session.scalar(query.limit(1)) is not None

    async def replace_placements(
        self, workload_id: uuid.UUID, replicas_by_cluster: Mapping[uuid.UUID, int]
    ) -> None:
        """Make ``replicas_by_cluster`` the workload's whole desired placement."""
        await self.session.execute(
            delete(WorkloadPlacement).where(WorkloadPlacement.workload_id == workload_id)
        )
        for cluster_id, replicas in replicas_by_cluster.items():
            if replicas > 0:
                self.session.add(
                    WorkloadPlacement(
                        workload_id=workload_id, cluster_id=cluster_id, replicas=replicas
                    )
                )
        await self.session.flush()

    async def claim_objects(
        self, workload_id: uuid.UUID, namespace: str, objects: Iterable[ObjectIdentity]
    ) -> list[ObjectOwner]:
        """Make ``objects`` the workload's whole set of Kubernetes objects, releasing the others.

        Returns the objects another workload holds, none of which is claimed (the caller
        refuses the change). The primary key decides between concurrent claims: an insert
        waits for a transaction inserting the same object, then finds it taken.
        """
        wanted = set(objects)
        await self.session.execute(
            delete(WorkloadObject).where(WorkloadObject.workload_id == workload_id)
        )
        if not wanted:
            return []
        claimed = await self.session.execute(
            insert(WorkloadObject)
            .values(
                [
                    {"workload_id": workload_id, "namespace": namespace, "kind": k, "name": n}
                    for k, n in sorted(wanted)
                ]
            )
            .on_conflict_do_nothing()
            .returning(WorkloadObject.kind, WorkloadObject.name)
        )
        taken = wanted - {(row.kind, row.name) for row in claimed}
        if not taken:
            return []
        holders = {
            (row.kind, row.name): row for row in await self._object_holders(namespace, taken)
        }
        return [
            ObjectOwner(kind, name, None, None, False)
            if holder is None
            else ObjectOwner(kind, name, holder.id, holder.workload_name, holder.deleting)
            for kind, name in sorted(taken)
            for holder in (holders.get((kind, name)),)
        ]

    async def _object_holders(
        self, namespace: str, objects: Iterable[ObjectIdentity]
    ) -> Sequence[Row[str, str, uuid.UUID, str, bool]]:
        query = (
            select(
                WorkloadObject.kind,
                WorkloadObject.name,
                Workload.id,
                Workload.name.label("workload_name"),
                Workload.deletion_requested.label("deleting"),
            )
            .join(Workload, Workload.id == WorkloadObject.workload_id)
            .where(
                WorkloadObject.namespace == namespace,
                tuple_(WorkloadObject.kind, WorkloadObject.name).in_(list(objects)),
            )
        )
        return (await self.session.execute(query)).all()

    async def latest_decision(self, workload_id: uuid.UUID) -> Decision | None:
        query = (
            select(Decision)
            .where(Decision.workload_id == workload_id)
            .order_by(Decision.created_at.desc(), Decision.id)
            .limit(1)
        )
        return await self.session.scalar(query)

    async def events_page(
        self, workload_id: uuid.UUID, *, after_id: int | None, limit: int
    ) -> Sequence[WorkloadEvent]:
        query = select(WorkloadEvent).where(WorkloadEvent.workload_id == workload_id)
        if after_id is not None:
            query = query.where(WorkloadEvent.id > after_id)
        return (await self.session.scalars(query.order_by(WorkloadEvent.id).limit(limit))).all()
