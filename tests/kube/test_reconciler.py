"""The reconciler against real API servers: desired placements written into the database become
objects in the right clusters, status is read back, and a killed reconciler converges.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from kubernetes import client
from sqlalchemy import select, text

from app.clusters.service import ClusterPolicy
from app.db.models import WorkloadEvent
from app.db.session import Database
from app.inventory.access import ClusterAccess
from app.kube import MANAGED_BY_LABEL, WORKLOAD_ID_LABEL, KubeDriver
from app.reconciler import Reconciler, ReconcilerSettings
from tests.kube.placer_fleet import (
    config_map,
    config_maps_in,
    deployment,
    deployments,
    eventually,
    insert_workload,
    register_fleet,
    request_deletion,
    set_placements,
    workload_status,
)
from tests.support.kubefleet import Fleet

pytestmark = pytest.mark.kube


def fast_settings(holder: str) -> ReconcilerSettings:
    """Short intervals, so the tests wait little."""
    return ReconcilerSettings(
        holder=holder,
        poll_interval=0.1,
        resync_interval=30.0,
        lease=1.5,
        backoff_base=0.2,
        backoff_max=1.0,
    )


class Running:
    """Reconcilers running as tasks for the length of one test."""

    def __init__(
        self,
        database: Database,
        access: ClusterAccess,
        policy: ClusterPolicy,
        ids: dict[str, uuid.UUID],
    ) -> None:
        self.ids = ids
        self._database = database
        self._access = access
        self._policy = policy
        self.tasks: list[asyncio.Task[None]] = []

    def start(self, holder: str = "test-1") -> asyncio.Task[None]:
        reconciler = Reconciler(
            self._database,
            self._access,
            fast_settings(holder),
            secret_box=self._policy.secret_box,
        )
        task = asyncio.create_task(reconciler.run())
        self.tasks.append(task)
        return task


@pytest.fixture
async def reconcilers(
    database: Database,
    access: ClusterAccess,
    policy: ClusterPolicy,
    cluster_ids: dict[str, uuid.UUID],
) -> AsyncIterator[Running]:
    running = Running(database, access, policy, cluster_ids)
    yield running
    for task in running.tasks:
        task.cancel()
    await asyncio.gather(*running.tasks, return_exceptions=True)


async def _events(database: Database, workload_id: uuid.UUID) -> list[tuple[str, str | None]]:
    async with database.transaction() as session:
        rows = await session.execute(
            select(WorkloadEvent.kind, WorkloadEvent.cluster)
            .where(WorkloadEvent.workload_id == workload_id)
            .order_by(WorkloadEvent.id)
        )
    return [(row.kind, row.cluster) for row in rows]


def _replicas(found: dict[str, dict[str, Any]], name: str) -> int | None:
    return found[name]["spec"]["replicas"] if name in found else None


async def test_applies_to_the_desired_cluster_labelled_and_reports_running(
    kube_fleet: Fleet,
    kube_namespace: str,
    database: Database,
    reconcilers: Running,
) -> None:
    workload_id = await insert_workload(
        database,
        kube_namespace,
        [deployment("web", 2), config_map("web-config")],
        {reconcilers.ids["iaas-tokyo"]: 2},
    )
    reconcilers.start()
    tokyo = kube_fleet.cluster("iaas-tokyo")

    found = await eventually(
        lambda: deployments(tokyo, kube_namespace), lambda d: "web" in d, what="web in iaas-tokyo"
    )
    labels = found["web"]["metadata"]["labels"]
    assert labels[MANAGED_BY_LABEL] == "placer"
    assert labels[WORKLOAD_ID_LABEL] == str(workload_id)
    template_labels = found["web"]["spec"]["template"]["metadata"]["labels"]
    assert template_labels[WORKLOAD_ID_LABEL] == str(workload_id)
    assert config_maps_in(tokyo, kube_namespace, f"{WORKLOAD_ID_LABEL}={workload_id}") == [
        "web-config"
    ]
    status = await eventually(
        lambda: workload_status(database, workload_id),
        lambda s: s is not None and s[0] == "Running",
        what="Running",
    )
    assert status == ("Running", "2/2 replicas ready (iaas-tokyo 2/2)")
    for other in ("onprem-tokyo", "iaas-frankfurt"):
        assert await deployments(kube_fleet.cluster(other), kube_namespace) == {}
    assert await _events(database, workload_id) == [("applied", "iaas-tokyo"), ("ready", None)]


async def test_divided_placement_gives_each_cluster_its_share_and_updates_follow(
    kube_fleet: Fleet,
    kube_namespace: str,
    database: Database,
    reconcilers: Running,
) -> None:
    onprem, frankfurt = kube_fleet.cluster("onprem-tokyo"), kube_fleet.cluster("iaas-frankfurt")
    workload_id = await insert_workload(
        database,
        kube_namespace,
        [deployment("api", 5)],
        {reconcilers.ids["onprem-tokyo"]: 3, reconcilers.ids["iaas-frankfurt"]: 2},
    )
    reconcilers.start()
    await eventually(
        lambda: workload_status(database, workload_id),
        lambda s: s is not None and s[0] == "Running",
        what="Running",
    )
    assert _replicas(await deployments(onprem, kube_namespace), "api") == 3
    assert _replicas(await deployments(frankfurt, kube_namespace), "api") == 2
    assert (await workload_status(database, workload_id)) == (
        "Running",
        "5/5 replicas ready (iaas-frankfurt 2/2, onprem-tokyo 3/3)",
    )

    await set_placements(database, workload_id, {reconcilers.ids["onprem-tokyo"]: 4})
    await eventually(
        lambda: deployments(frankfurt, kube_namespace),
        lambda d: d == {},
        what="api gone from iaas-frankfurt",
    )
    assert _replicas(await deployments(onprem, kube_namespace), "api") == 4
    await eventually(
        lambda: workload_status(database, workload_id),
        lambda s: s == ("Running", "4/4 replicas ready (onprem-tokyo 4/4)"),
        what="Running with 4 replicas",
    )
    assert ("deleted", "iaas-frankfurt") in await _events(database, workload_id)


async def test_deletion_removes_objects_from_every_cluster_then_the_workload(
    kube_fleet: Fleet,
    kube_namespace: str,
    database: Database,
    reconcilers: Running,
) -> None:
    workload_id = await insert_workload(
        database,
        kube_namespace,
        [deployment("batch", 2), config_map("batch-config")],
        {reconcilers.ids["iaas-tokyo"]: 1, reconcilers.ids["iaas-frankfurt"]: 1},
    )
    reconcilers.start()
    await eventually(
        lambda: workload_status(database, workload_id),
        lambda s: s is not None and s[0] == "Running",
        what="Running",
    )
    await request_deletion(database, workload_id)
    await eventually(
        lambda: workload_status(database, workload_id), lambda s: s is None, what="row deleted"
    )
    for name in ("iaas-tokyo", "iaas-frankfurt"):
        cluster = kube_fleet.cluster(name)
        assert await deployments(cluster, kube_namespace) == {}
        assert config_maps_in(cluster, kube_namespace, f"{WORKLOAD_ID_LABEL}={workload_id}") == []


async def test_cluster_without_credentials_keeps_the_workload_placed(
    kube_fleet: Fleet,
    kube_namespace: str,
    database: Database,
    policy: ClusterPolicy,
    access: ClusterAccess,
) -> None:
    ids = await register_fleet(database, policy, kube_fleet, without_credentials=["iaas-tokyo"])
    workload_id = await insert_workload(
        database, kube_namespace, [deployment("plan", 1)], {ids["iaas-tokyo"]: 1}
    )
    reconciler = Reconciler(database, access, fast_settings("once"), secret_box=policy.secret_box)
    assert await reconciler.reconcile_due() == 1
    assert await workload_status(database, workload_id) == (
        "Placed",
        "cluster iaas-tokyo has no credentials: planned only",
    )
    assert await deployments(kube_fleet.cluster("iaas-tokyo"), kube_namespace) == {}


async def test_reconciler_killed_between_apply_and_status_read_converges_without_duplicates(
    kube_fleet: Fleet,
    kube_namespace: str,
    database: Database,
    reconcilers: Running,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    applied = asyncio.Event()
    read_status = KubeDriver.workload_status

    async def stall_after_apply(self: KubeDriver, *args: Any) -> Any:
        applied.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(KubeDriver, "workload_status", stall_after_apply)
    workload_id = await insert_workload(
        database, kube_namespace, [deployment("crash", 2)], {reconcilers.ids["iaas-tokyo"]: 2}
    )
    first = reconcilers.start("doomed")
    await asyncio.wait_for(applied.wait(), 30)
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    assert (await workload_status(database, workload_id)) == ("Placed", "")

    monkeypatch.setattr(KubeDriver, "workload_status", read_status)
    reconcilers.start("successor")
    await eventually(
        lambda: workload_status(database, workload_id),
        lambda s: s is not None and s[0] == "Running",
        what="Running after restart",
    )
    tokyo = kube_fleet.cluster("iaas-tokyo")
    assert list(await deployments(tokyo, kube_namespace)) == ["crash"]
    with tokyo.api_client() as api:
        replica_sets = client.AppsV1Api(api).list_namespaced_replica_set(kube_namespace).items
    assert len(replica_sets) == 1
    assert replica_sets[0].spec.replicas == 2


async def _claim_backoff(database: Database, workload_id: uuid.UUID) -> tuple[int, float]:
    """How many attempts in a row failed, and in how many seconds the next one is due."""
    async with database.transaction() as session:
        row = (
            await session.execute(
                text(
                    "SELECT failures, extract(epoch FROM next_attempt_at - now()) AS due_in"
                    " FROM reconcile_claims WHERE workload_id = :id"
                ),
                {"id": workload_id},
            )
        ).one()
    return int(row.failures), float(row.due_in or 0.0)


async def _retry_delays(database: Database, workload_id: uuid.UUID) -> list[float]:
    async with database.transaction() as session:
        messages = await session.scalars(
            select(WorkloadEvent.message)
            .where(WorkloadEvent.workload_id == workload_id, WorkloadEvent.kind == "retried")
            .order_by(WorkloadEvent.id)
        )
        return [float(m.rsplit("next attempt in ", 1)[1].rstrip("s")) for m in messages]


async def test_a_stopped_apiserver_degrades_a_running_workload_with_backoff_until_it_returns(
    kube_fleet: Fleet,
    kube_namespace: str,
    database: Database,
    reconcilers: Running,
) -> None:
    workload_id = await insert_workload(
        database, kube_namespace, [deployment("outage", 2)], {reconcilers.ids["iaas-frankfurt"]: 2}
    )
    reconcilers.start()
    await eventually(
        lambda: workload_status(database, workload_id),
        lambda s: s is not None and s[0] == "Running",
        what="Running",
    )
    frankfurt = kube_fleet.cluster("iaas-frankfurt")
    await asyncio.to_thread(frankfurt.stop_apiserver)
    try:
        status = await eventually(
            lambda: workload_status(database, workload_id),
            lambda s: s is not None and s[0] == "Degraded",
            what="Degraded",
        )
        assert status is not None
        # Last known replicas are kept: presumably still running, but out of sight.
        assert status[1].startswith(
            "2/2 replicas ready (iaas-frankfurt 2/2); cluster iaas-frankfurt:"
        )
        assert status[1].endswith("; retrying")
        delays = await eventually(
            lambda: _retry_delays(database, workload_id),
            lambda d: len(d) >= 4,
            what="four retries",
        )
        # Backoff grows (0.2 s doubling, capped at 1 s) and is kept in the database.
        assert delays[:4] == [0.2, 0.4, 0.8, 1.0]
        failures, due_in = await _claim_backoff(database, workload_id)
        assert failures >= 4
        assert due_in <= 1.0
        assert ("degraded", None) in await _events(database, workload_id)
    finally:
        await asyncio.to_thread(frankfurt.start_apiserver)

    await eventually(
        lambda: workload_status(database, workload_id),
        lambda s: s == ("Running", "2/2 replicas ready (iaas-frankfurt 2/2)"),
        what="Running again",
    )
    assert (await _claim_backoff(database, workload_id))[0] == 0
    assert list(await deployments(frankfurt, kube_namespace)) == ["outage"]
    # New work runs there again. This also waits until the cluster's controllers have
    # re-established their watches, so the tests after this one find a working cluster.
    after_outage = await insert_workload(
        database, kube_namespace, [deployment("after", 1)], {reconcilers.ids["iaas-frankfurt"]: 1}
    )
    await eventually(
        lambda: workload_status(database, after_outage),
        lambda s: s is not None and s[0] == "Running",
        within=90.0,
        what="a new workload Running after the outage",
    )


def _service_with_invalid_port_name(name: str) -> dict[str, Any]:
    """A Service Placer's validation accepts but the API server refuses: a port name must be
    an IANA service name (lower case, no underscore)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {
            "selector": {"app": name},
            "ports": [{"name": "Web_Port", "port": 80, "targetPort": 8080}],
        },
    }


async def test_a_manifest_the_api_server_rejects_fails_the_workload_with_its_message(
    kube_namespace: str, database: Database, reconcilers: Running
) -> None:
    workload_id = await insert_workload(
        database,
        kube_namespace,
        [deployment("shop", 1), _service_with_invalid_port_name("shop")],
        {reconcilers.ids["iaas-tokyo"]: 1},
    )
    reconcilers.start()

    failed_status = await eventually(
        lambda: workload_status(database, workload_id),
        lambda s: s is not None and s[0] == "Failed",
        what="Failed",
    )
    assert failed_status is not None
    message = failed_status[1]
    assert message.startswith("cluster iaas-tokyo: ")
    assert "spec.ports[0].name" in message
    assert "Web_Port" in message
    async with database.transaction() as session:
        failed = (
            await session.scalars(
                select(WorkloadEvent.message).where(
                    WorkloadEvent.workload_id == workload_id, WorkloadEvent.kind == "failed"
                )
            )
        ).all()
    assert failed == [message]
    # Permanent: not retried with backoff.
    assert await _retry_delays(database, workload_id) == []
