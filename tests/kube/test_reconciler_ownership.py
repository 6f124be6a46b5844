"""The reconciler applies nothing over an object it does not own: a Deployment made by hand, or
one another workload deployed, fails the workload in that cluster and stays as it was."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from kubernetes import client
from sqlalchemy import select, update

from app.db.models import Workload, WorkloadEvent
from app.db.session import Database
from app.kube import MANAGED_BY_LABEL, WORKLOAD_ID_LABEL
from app.reconciler import Reconciler
from tests.kube.placer_fleet import (
    config_map,
    config_maps_in,
    deployment,
    deployments,
    insert_workload,
    set_placements,
    workload_status,
)
from tests.support.kubefleet import Fleet
from tests.support.kubefleet.cluster import Cluster

pytestmark = pytest.mark.kube

CLUSTER = "iaas-tokyo"


@pytest.fixture
def reconciler_holder() -> str:
    return "ownership"


def _create_by_hand(cluster: Cluster, namespace: str, manifest: dict[str, Any]) -> None:
    with cluster.api_client() as api:
        client.CoreV1Api(api).create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace))
        )
        # The client sends a JSON mapping as it is; its stubs only name its own models.
        client.AppsV1Api(api).create_namespaced_deployment(namespace, manifest)  # type: ignore[arg-type]


async def _events(database: Database, workload_id: uuid.UUID) -> list[tuple[str, str]]:
    async with database.transaction() as session:
        rows = await session.execute(
            select(WorkloadEvent.kind, WorkloadEvent.message)
            .where(WorkloadEvent.workload_id == workload_id)
            .order_by(WorkloadEvent.id)
        )
    return [(row.kind, row.message) for row in rows]


async def test_a_deployment_made_by_hand_fails_the_workload_and_is_left_as_it_was(
    kube_fleet: Fleet,
    kube_namespace: str,
    database: Database,
    cluster_ids: dict[str, uuid.UUID],
    reconciler: Reconciler,
) -> None:
    tokyo = kube_fleet.cluster(CLUSTER)
    await asyncio.to_thread(_create_by_hand, tokyo, kube_namespace, deployment("checkout", 1))
    before = (await deployments(tokyo, kube_namespace))["checkout"]
    workload_id = await insert_workload(
        database,
        kube_namespace,
        [deployment("checkout", 3), config_map("checkout-config")],
        {cluster_ids[CLUSTER]: 3},
    )

    assert await reconciler.reconcile_due() == 1

    expected = (
        f"Deployment {kube_namespace}/checkout already exists in cluster {CLUSTER} and is not"
        " managed by this workload (Placer did not create it)"
    )
    assert await workload_status(database, workload_id) == (
        "Failed",
        f"cluster {CLUSTER}: {expected}",
    )
    assert ("failed", f"cluster {CLUSTER}: {expected}") in await _events(database, workload_id)
    after = (await deployments(tokyo, kube_namespace))["checkout"]
    # Its controller updates its status; its spec and labels are untouched, Placer wrote no field.
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert after["metadata"].get("labels") == before["metadata"].get("labels")
    assert [
        f["manager"] for f in after["metadata"]["managedFields"] if f["manager"] == "placer"
    ] == []
    assert after["spec"]["replicas"] == 1
    assert MANAGED_BY_LABEL not in (after["metadata"].get("labels") or {})
    assert WORKLOAD_ID_LABEL not in after["spec"]["template"]["metadata"]["labels"]
    assert config_maps_in(tokyo, kube_namespace, f"{WORKLOAD_ID_LABEL}={workload_id}") == []

    # Level-triggered: once the hand-made object is gone, the next reconcile deploys.
    with tokyo.api_client() as api:
        client.AppsV1Api(api).delete_namespaced_deployment("checkout", kube_namespace)
    await set_placements(database, workload_id, {cluster_ids[CLUSTER]: 3})
    assert await reconciler.reconcile_due() == 1
    deployed = (await deployments(tokyo, kube_namespace))["checkout"]
    assert deployed["metadata"]["labels"][WORKLOAD_ID_LABEL] == str(workload_id)
    assert deployed["spec"]["replicas"] == 3


async def test_a_second_workload_never_takes_over_the_first_ones_deployment(
    kube_fleet: Fleet,
    kube_namespace: str,
    database: Database,
    cluster_ids: dict[str, uuid.UUID],
    reconciler: Reconciler,
) -> None:
    # Written straight into the tables, as two workloads stored before names were unique.
    tokyo = kube_fleet.cluster(CLUSTER)
    first = await insert_workload(
        database, kube_namespace, [deployment("checkout", 3)], {cluster_ids[CLUSTER]: 3}
    )
    assert await reconciler.reconcile_due() == 1
    async with database.transaction() as session:
        # insert_workload names a workload after its Deployment; workload names are unique.
        await session.execute(update(Workload).where(Workload.id == first).values(name="first"))
    second = await insert_workload(
        database, kube_namespace, [deployment("checkout", 38)], {cluster_ids[CLUSTER]: 38}
    )

    assert await reconciler.reconcile_due() == 1

    assert await workload_status(database, second) == (
        "Failed",
        f"cluster {CLUSTER}: Deployment {kube_namespace}/checkout already exists in cluster"
        f" {CLUSTER} and is not managed by this workload (it belongs to workload {first})",
    )
    found = (await deployments(tokyo, kube_namespace))["checkout"]
    assert found["metadata"]["labels"][WORKLOAD_ID_LABEL] == str(first)
    assert found["spec"]["replicas"] == 3
