"""The inventory sync against real API servers: capacity and zones from Nodes, external use
from pods Placer does not manage, Ready/Unreachable from /readyz, versions bumped only on change.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.auth.principal import Principal
from app.clusters.schemas import ClusterCreate
from app.clusters.service import ClusterPolicy, ClusterService
from app.db.models import AuditEvent, Cluster
from app.db.session import Database
from app.inventory.access import ClusterAccess
from app.inventory.sync import InventorySync
from app.kube import Timeouts
from tests.kube.placer_fleet import cluster_document, eventually, register_fleet
from tests.support.kubefleet import Fleet
from tests.support.kubefleet.cluster import Cluster as FleetCluster

pytestmark = pytest.mark.kube


@pytest.fixture
def kube_timeouts() -> Timeouts:
    return Timeouts(connect=2, read=5)


async def _cluster(database: Database, name: str) -> Cluster:
    async with database.transaction() as session:
        cluster = await session.scalar(select(Cluster).where(Cluster.name == name))
        assert cluster is not None
        return cluster


async def _sync_audits(database: Database) -> int:
    async with database.transaction() as session:
        count = await session.scalar(
            select(func.count()).where(AuditEvent.action == "cluster.sync")
        )
    return int(count or 0)


async def test_sync_reads_capacity_zones_and_flags_an_unreachable_cluster(
    kube_fleet: Fleet, database: Database, policy: ClusterPolicy, access: ClusterAccess
) -> None:
    await register_fleet(database, policy, kube_fleet, without_credentials=["onprem-tokyo"])
    changes: list[datetime] = []

    async def record_change(now: datetime) -> None:
        changes.append(now)

    sync = InventorySync(database, access, interval=0.1, on_change=record_change)
    assert sorted(await sync.sync_once()) == ["iaas-frankfurt", "iaas-tokyo"]
    assert len(changes) == 1
    tokyo = await _cluster(database, "iaas-tokyo")
    assert tokyo.state == "Ready"
    assert tokyo.capacity == {"cpu": 2 * 3920, "memory": 2 * 14 * 2**30, "pods": 2 * 58}
    assert tokyo.zones == ["ap-northeast-1a", "ap-northeast-1c"]
    assert tokyo.allocated_external["pods"] >= 0
    assert tokyo.sync_message is None
    onprem = await _cluster(database, "onprem-tokyo")
    assert onprem.synced_at is None
    assert onprem.capacity == {"cpu": 16000, "memory": 64 * 2**30, "pods": 200}

    audits, version = await _sync_audits(database), tokyo.version
    assert await sync.sync_once() == []
    assert (await _cluster(database, "iaas-tokyo")).version == version
    assert await _sync_audits(database) == audits

    frankfurt = kube_fleet.cluster("iaas-frankfurt")
    frankfurt.stop_apiserver()
    try:
        assert await sync.sync_once() == ["iaas-frankfurt"]
        down = await _cluster(database, "iaas-frankfurt")
        assert (down.state, down.unreachable) == ("Unreachable", True)
        assert down.sync_message
        assert (await _cluster(database, "iaas-tokyo")).state == "Ready"
    finally:
        await asyncio.to_thread(frankfurt.start_apiserver)
    assert await sync.sync_once() == ["iaas-frankfurt"]
    assert (await _cluster(database, "iaas-frankfurt")).state == "Ready"


async def _register(database: Database, policy: ClusterPolicy, cluster: FleetCluster) -> None:
    async with database.transaction() as session:
        await ClusterService(session, policy).create(
            ClusterCreate.model_validate(cluster_document(cluster)), Principal.system("tests")
        )


async def _synced_at(database: Database, name: str) -> datetime | None:
    return (await _cluster(database, name)).synced_at


async def test_running_sync_reads_clusters_at_start_and_as_soon_as_credentials_arrive(
    kube_fleet: Fleet, database: Database, policy: ClusterPolicy, access: ClusterAccess
) -> None:
    await _register(database, policy, kube_fleet.cluster("iaas-tokyo"))
    # An interval far longer than the test: only start-up and notifications can sync.
    sync = InventorySync(database, access, interval=600.0)
    task = asyncio.create_task(sync.run())
    try:
        await eventually(
            lambda: _synced_at(database, "iaas-tokyo"),
            lambda at: at is not None,
            within=10.0,
            what="iaas-tokyo synced at start",
        )
        await _register(database, policy, kube_fleet.cluster("iaas-frankfurt"))
        await eventually(
            lambda: _synced_at(database, "iaas-frankfurt"),
            lambda at: at is not None,
            within=10.0,
            what="iaas-frankfurt synced once registered",
        )
        frankfurt = await _cluster(database, "iaas-frankfurt")
        assert frankfurt.state == "Ready"
        # Its Nodes' capacity replaced the declared 16 CPUs.
        assert frankfurt.capacity["cpu"] == 3 * 7910
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
