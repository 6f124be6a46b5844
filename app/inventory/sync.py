"""The periodic inventory sync: what clusters with credentials really have, use and answer.

For each cluster with credentials, every interval:

* ``/readyz`` decides ``Ready`` or ``Unreachable`` (only that flag: ``Cordoned`` and
  ``Draining`` are an admin's and are left alone);
* the allocatable resources of its Ready Nodes become its capacity, their
  ``topology.kubernetes.io/zone`` labels its zones; Nodes reporting another region than the
  declared one are noted in ``sync_message`` (the declared region stays: policies rely on it);
* the requests of running pods Placer does not manage become ``allocated_external``, so the
  scheduler adds Placer's own placements to them without counting anything twice.

The cluster's version (its ETag) is bumped and an audit event written (actor
``system:inventory-sync``) only when one of these actually changed; ``on_change`` is then
called, so workloads that could not be placed are tried again against the new inventory.

:meth:`InventorySync.run` syncs every cluster at once when it starts (in the background: the
service is ready meanwhile), then every interval; a cluster whose credentials are set or
changed is synced as soon as a database trigger says so (``NOTIFY placer_inventory``).

    >>> sync = InventorySync(database, access, interval=30.0, on_change=reschedule)
    >>> task = asyncio.create_task(sync.run())
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditTrail
from app.auth.principal import Principal
from app.clusters.service import derive_state
from app.db.base import utcnow
from app.db.models import Cluster
from app.db.session import Database
from app.inventory.access import ClusterAccess, UnusableCredentialsError
from app.kube import (
    MANAGED_BY,
    MANAGED_BY_LABEL,
    TRACKED_RESOURCES,
    KubeDriver,
    KubeError,
    NodeInfo,
)

SYNC_ACTOR = Principal.system("inventory-sync")
NOTIFY_CHANNEL = "placer_inventory"
NOT_MANAGED_BY_PLACER = f"{MANAGED_BY_LABEL}!={MANAGED_BY}"
# Resources every cluster states even at zero; others (GPUs) only where Nodes have them.
_ALWAYS_STATED = ("cpu", "memory", "pods")

InventoryChanged = Callable[[datetime], Awaitable[None]]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ClusterReading:
    """What one look at a cluster found; ``capacity`` and the rest are ``None`` if unreachable."""

    reachable: bool
    detail: str | None = None
    capacity: dict[str, int] | None = None
    zones: list[str] | None = None
    regions: frozenset[str] = frozenset()
    allocated_external: dict[str, int] | None = None


def read_inventory(
    nodes: Iterable[NodeInfo], requests_by_node: Mapping[str, Mapping[str, int]]
) -> ClusterReading:
    """Capacity, zones, regions and external use of a reachable cluster, from its Ready Nodes.

    ``requests_by_node`` holds the requests of the pods Placer does not manage, per node.
    """
    ready = [node for node in nodes if node.ready]
    capacity = dict.fromkeys(TRACKED_RESOURCES, 0)
    allocated = dict.fromkeys(TRACKED_RESOURCES, 0)
    for node in ready:
        for resource in TRACKED_RESOURCES:
            capacity[resource] += node.allocatable.get(resource, 0)
            allocated[resource] += requests_by_node.get(node.name, {}).get(resource, 0)
    zones = sorted({node.zone for node in ready if node.zone})
    return ClusterReading(
        reachable=True,
        capacity=_stated(capacity),
        zones=zones or None,
        regions=frozenset(node.region for node in ready if node.region),
        allocated_external=_stated(allocated),
    )


def _stated(amounts: Mapping[str, int]) -> dict[str, int]:
    return {r: amount for r, amount in amounts.items() if amount or r in _ALWAYS_STATED}


async def observe(driver: KubeDriver) -> ClusterReading:
    """Ask the cluster; any Kubernetes failure makes it an unreachable reading, never an error."""
    try:
        readiness = await driver.readyz()
        if not readiness.ready:
            return ClusterReading(reachable=False, detail=f"not ready: {readiness.detail}")
        nodes = await driver.read_nodes()
        external = await driver.pod_requests_in_use(label_selector=NOT_MANAGED_BY_PLACER)
    except KubeError as error:
        return ClusterReading(reachable=False, detail=error.message)
    return read_inventory(nodes, external)


def _synced_fields(cluster: Cluster) -> dict[str, Any]:
    return {
        "state": cluster.state,
        "capacity": dict(cluster.capacity),
        "zones": list(cluster.zones),
        "allocatedExternal": dict(cluster.allocated_external or {}),
    }


def apply_reading(cluster: Cluster, reading: ClusterReading, now: datetime) -> bool:
    """Write ``reading`` into ``cluster``; says whether anything the scheduler sees changed."""
    before = _synced_fields(cluster)
    cluster.unreachable = not reading.reachable
    cluster.state = str(derive_state(cluster))
    message = reading.detail
    if reading.capacity is not None:
        cluster.capacity = reading.capacity
    if reading.zones is not None:
        cluster.zones = reading.zones
    if reading.allocated_external is not None:
        cluster.allocated_external = reading.allocated_external
    if reading.regions and cluster.region not in reading.regions:
        message = (
            f"nodes report region {', '.join(sorted(reading.regions))}, "
            f"the cluster is declared in {cluster.region}"
        )
    cluster.sync_message = message
    cluster.synced_at = now
    return _synced_fields(cluster) != before


@dataclass(frozen=True, slots=True)
class _Target:
    id: uuid.UUID
    name: str
    sealed_credentials: bytes


class InventorySync:
    """Syncs every cluster with credentials, once (:meth:`sync_once`) or forever (:meth:`run`)."""

    def __init__(
        self,
        database: Database,
        access: ClusterAccess,
        *,
        interval: float,
        on_change: InventoryChanged | None = None,
    ) -> None:
        self._database = database
        self._access = access
        self._interval = interval
        self._on_change = on_change

    async def run(self) -> None:
        """Sync now and every ``interval`` seconds, and each cluster whose credentials change
        as they do, until cancelled; a failed round is logged and retried."""
        notified: set[uuid.UUID] = set()
        wake = asyncio.Event()
        listener = asyncio.create_task(self._listen(notified, wake))
        loop = asyncio.get_running_loop()
        try:
            while True:
                await self._sync_logged(None)
                due = loop.time() + self._interval
                while (left := due - loop.time()) > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), left)
                    wake.clear()
                    if notified:
                        clusters = set(notified)
                        notified.clear()
                        await self._sync_logged(clusters)
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)

    async def _sync_logged(self, clusters: Collection[uuid.UUID] | None) -> None:
        try:
            await self.sync_once(clusters)
        except Exception:
            logger.exception("inventory sync failed; retrying next interval")

    async def _listen(self, notified: set[uuid.UUID], wake: asyncio.Event) -> None:
        """Collect the ids ``NOTIFY placer_inventory`` sends, reconnecting when cut off."""

        def on_notify(*arguments: Any) -> None:
            notified.add(uuid.UUID(arguments[-1]))
            wake.set()

        while True:
            try:
                async with self._database.engine.connect() as connection:
                    raw = await connection.get_raw_connection()
                    driver_connection: Any = raw.driver_connection
                    await driver_connection.add_listener(NOTIFY_CHANNEL, on_notify)
                    closed = asyncio.Event()
                    driver_connection.add_termination_listener(lambda *_, c=closed: c.set())
                    await closed.wait()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("listening for new cluster credentials failed; retrying")
            await asyncio.sleep(min(self._interval, 5.0))

    async def sync_once(self, clusters: Collection[uuid.UUID] | None = None) -> list[str]:
        """Sync every cluster with credentials (or those of ``clusters`` that have them);
        returns the names of those that changed."""
        query = select(Cluster.id, Cluster.name, Cluster.credentials_ciphertext).where(
            Cluster.credentials_ciphertext.is_not(None)
        )
        if clusters is not None:
            query = query.where(Cluster.id.in_(list(clusters)))
        async with self._database.transaction() as session:
            rows = await session.execute(query)
            targets = [_Target(row.id, row.name, row.credentials_ciphertext) for row in rows]
        results = await asyncio.gather(*(self._sync(target) for target in targets))
        changed = [target.name for target, did in zip(targets, results, strict=True) if did]
        if changed and self._on_change is not None:
            await self._on_change(utcnow())
        return changed

    async def _sync(self, target: _Target) -> bool:
        try:
            driver = self._access.driver(target.id, target.sealed_credentials)
        except UnusableCredentialsError as error:
            reading = ClusterReading(reachable=False, detail=str(error))
        else:
            reading = await observe(driver)
        async with self._database.transaction() as session:
            return await self._record(session, target, reading)

    async def _record(
        self, session: AsyncSession, target: _Target, reading: ClusterReading
    ) -> bool:
        cluster = await session.scalar(
            select(Cluster).where(Cluster.id == target.id).with_for_update()
        )
        if cluster is None:
            return False
        before = _synced_fields(cluster)
        if not apply_reading(cluster, reading, utcnow()):
            return False
        cluster.version += 1
        cluster.updated_at = utcnow()
        if reading.reachable != (before["state"] != "Unreachable"):
            logger.warning(
                "cluster %s is now %s%s",
                cluster.name,
                cluster.state,
                f": {reading.detail}" if reading.detail else "",
            )
        AuditTrail(session, SYNC_ACTOR).record(
            "cluster.sync", "cluster", cluster.name, before=before, after=_synced_fields(cluster)
        )
        return True
