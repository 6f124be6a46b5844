"""An update that renames or drops an object removes it from the clusters the workload still
runs in, so nothing lingers under its label and the name is free for another workload there;
objects of other workloads and objects Placer did not make are never pruned."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from sqlalchemy import select, update

from app.db.models import Workload, WorkloadEvent
from app.db.session import Database
from app.kube import WORKLOAD_ID_LABEL
from app.reconciler import Reconciler
from tests.kube.placer_fleet import (
    config_map,
    deployment,
    deployments,
    eventually,
    insert_workload,
    workload_status,
)
from tests.support.kubefleet import Fleet
from tests.support.kubefleet.cluster import Cluster

pytestmark = pytest.mark.kube

CLUSTER = "iaas-tokyo"


@pytest.fixture
def reconciler_holder() -> str:
    return "prune"


def _service(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80}]},
    }


async def _replace_manifests(
    database: Database, workload_id: uuid.UUID, manifests: list[dict[str, Any]]
) -> None:
    """Store new manifests and bump the desired generation, as an update does."""
    async with database.transaction() as session:
        await session.execute(
            update(Workload)
            .where(Workload.id == workload_id)
            .values(manifests=manifests, desired_generation=Workload.desired_generation + 1)
        )


def _objects_in(cluster: Cluster, namespace: str) -> dict[tuple[str, str], str | None]:
    """Every ConfigMap and Service in ``namespace`` not being deleted, with its workload label."""
    with cluster.api_client() as api:
        core = client.CoreV1Api(api)
        found = [
            *(
                ("ConfigMap", item.metadata)
                for item in core.list_namespaced_config_map(namespace).items
            ),
            *(("Service", item.metadata) for item in core.list_namespaced_service(namespace).items),
        ]
    return {
        (kind, str(metadata.name)): (metadata.labels or {}).get(WORKLOAD_ID_LABEL)
        for kind, metadata in found
        if metadata is not None
        and metadata.deletion_timestamp is None
        # Every namespace gets the API server's root CA bundle; it is no workload's.
        and metadata.name != "kube-root-ca.crt"
    }


def _gone(cluster: Cluster, namespace: str, kind: str, name: str) -> bool:
    """Whether the object is no longer in the cluster at all, deleting or not."""
    with cluster.api_client() as api:
        core = client.CoreV1Api(api)
        read = (
            core.read_namespaced_config_map if kind == "ConfigMap" else core.read_namespaced_service
        )
        try:
            read(name, namespace)
        except ApiException as error:
            if error.status == 404:
                return True
            raise
    return False


def _create_config_map_by_hand(cluster: Cluster, namespace: str, name: str) -> None:
    with cluster.api_client() as api:
        # The client sends a JSON mapping as it is; its stubs only name its own models.
        client.CoreV1Api(api).create_namespaced_config_map(namespace, config_map(name))  # type: ignore[arg-type]


async def _events(database: Database, workload_id: uuid.UUID) -> list[tuple[str, str | None, str]]:
    async with database.transaction() as session:
        rows = await session.execute(
            select(WorkloadEvent.kind, WorkloadEvent.cluster, WorkloadEvent.message)
            .where(WorkloadEvent.workload_id == workload_id)
            .order_by(WorkloadEvent.id)
        )
    return [(row.kind, row.cluster, row.message) for row in rows]


async def test_renamed_and_dropped_objects_are_pruned_and_their_names_freed(
    kube_fleet: Fleet,
    kube_namespace: str,
    database: Database,
    cluster_ids: dict[str, uuid.UUID],
    reconciler: Reconciler,
) -> None:
    tokyo = kube_fleet.cluster(CLUSTER)
    web = await insert_workload(
        database,
        kube_namespace,
        [deployment("web", 1), config_map("a"), _service("web")],
        {cluster_ids[CLUSTER]: 1},
    )
    assert await reconciler.reconcile_due() == 1
    owner = str(web)
    assert await asyncio.to_thread(_objects_in, tokyo, kube_namespace) == {
        ("ConfigMap", "a"): owner,
        ("Service", "web"): owner,
    }
    deployment_uid = (await deployments(tokyo, kube_namespace))["web"]["metadata"]["uid"]
    await asyncio.to_thread(_create_config_map_by_hand, tokyo, kube_namespace, "hand-made")

    # The update renames the ConfigMap a to b and drops the Service.
    await _replace_manifests(database, web, [deployment("web", 1), config_map("b")])
    assert await reconciler.reconcile_due() == 1

    assert await asyncio.to_thread(_objects_in, tokyo, kube_namespace) == {
        ("ConfigMap", "b"): owner,
        ("ConfigMap", "hand-made"): None,
    }
    assert (await deployments(tokyo, kube_namespace))["web"]["metadata"]["uid"] == deployment_uid
    pruned = [event for event in await _events(database, web) if event[0] == "pruned"]
    assert pruned == [
        (
            "pruned",
            CLUSTER,
            "asked the cluster to delete Service web, ConfigMap a: no longer in the manifests",
        )
    ]

    async def pruned_objects_gone() -> list[bool]:
        return [
            await asyncio.to_thread(_gone, tokyo, kube_namespace, kind, name)
            for kind, name in (("ConfigMap", "a"), ("Service", "web"))
        ]

    await eventually(pruned_objects_gone, all, what="ConfigMap a and Service web deleted")

    # The name a is free in the cluster: another workload deploys its own ConfigMap a.
    worker = await insert_workload(
        database,
        kube_namespace,
        [deployment("worker", 1), config_map("a")],
        {cluster_ids[CLUSTER]: 1},
    )
    # web may be due too (a poll while it deploys); it has nothing to apply then.
    assert await reconciler.reconcile_due() >= 1
    status = await workload_status(database, worker)
    assert status is not None
    assert status[0] in ("Deploying", "Running"), status
    assert (await deployments(tokyo, kube_namespace))["worker"]["metadata"]["labels"][
        WORKLOAD_ID_LABEL
    ] == str(worker)

    # Pruning again (a new generation of web) deletes neither worker's ConfigMap a, nor the one
    # made by hand, nor anything web still has, and records nothing more.
    await _replace_manifests(database, web, [deployment("web", 1, cpu="200m"), config_map("b")])
    assert await reconciler.reconcile_due() >= 1
    assert await asyncio.to_thread(_objects_in, tokyo, kube_namespace) == {
        ("ConfigMap", "a"): str(worker),
        ("ConfigMap", "b"): owner,
        ("ConfigMap", "hand-made"): None,
    }
    assert [event for event in await _events(database, web) if event[0] == "pruned"] == pruned
    container = (await deployments(tokyo, kube_namespace))["web"]["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["resources"]["requests"]["cpu"] == "200m"
