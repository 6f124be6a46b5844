"""Placer pointed at the test fleet: clusters registered with their real credentials, desired
state written into the contract tables, and polling helpers with deadlines.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from sqlalchemy import delete, select, update

from app.auth.principal import Principal
from app.clusters.schemas import ClusterCreate
from app.clusters.service import ClusterPolicy, ClusterService
from app.db.models import Workload, WorkloadPlacement
from app.db.session import Database
from tests.support.kubefleet import Fleet
from tests.support.kubefleet.cluster import Cluster

_Value = TypeVar("_Value")


def cluster_document(cluster: Cluster, *, credentials: bool = True) -> dict[str, Any]:
    """The ``POST /v1/clusters`` body of a fleet cluster, with its kubeconfig."""
    spec = cluster.spec
    document: dict[str, Any] = {
        "name": spec.name,
        "kind": spec.kind,
        "provider": spec.provider,
        "region": spec.region,
        "zones": list(spec.zones),
        "country": spec.country,
        "labels": {"fleet": "test"},
        "capacity": {"cpu": "16", "memory": "64Gi", "pods": "200"},
    }
    if credentials:
        document["credentials"] = {"kubeconfig": cluster.kubeconfig_path.read_text()}
    return document


async def register_fleet(
    database: Database,
    policy: ClusterPolicy,
    fleet: Fleet,
    *,
    without_credentials: Iterable[str] = (),
) -> dict[str, uuid.UUID]:
    """Register every fleet cluster (credentials withheld for those named); ids by name."""
    bare = set(without_credentials)
    ids: dict[str, uuid.UUID] = {}
    async with database.transaction() as session:
        service = ClusterService(session, policy)
        for cluster in fleet.clusters:
            body = cluster_document(cluster, credentials=cluster.name not in bare)
            view = await service.create(
                ClusterCreate.model_validate(body), Principal.system("tests")
            )
            ids[cluster.name] = view.id
    return ids


def deployment(name: str, replicas: int, *, cpu: str = "100m") -> dict[str, Any]:
    """A small Deployment manifest with requests on its container."""
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "registry.example/app:1",
                            "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}},
                        }
                    ]
                },
            },
        },
    }


def config_map(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


async def insert_workload(
    database: Database,
    namespace: str,
    manifests: list[dict[str, Any]],
    placements: Mapping[uuid.UUID, int],
) -> uuid.UUID:
    """A placed workload written straight into the tables the workload service owns."""
    primary = manifests[0]
    workload_id = uuid.uuid4()
    async with database.transaction() as session:
        session.add(
            Workload(
                id=workload_id,
                name=primary["metadata"]["name"],
                namespace=namespace,
                team="tests",
                labels={},
                kind=primary["kind"],
                replicas=sum(placements.values()),
                manifests=manifests,
                placement={"strategy": "single"},
                disruption={},
                spec={},
                status="Placed",
                status_message="",
            )
        )
        await session.flush()
        for cluster_id, replicas in placements.items():
            session.add(
                WorkloadPlacement(workload_id=workload_id, cluster_id=cluster_id, replicas=replicas)
            )
    return workload_id


async def set_placements(
    database: Database, workload_id: uuid.UUID, placements: Mapping[uuid.UUID, int]
) -> None:
    """Replace the desired placements and bump the desired generation, as an update does."""
    async with database.transaction() as session:
        await session.execute(
            delete(WorkloadPlacement).where(WorkloadPlacement.workload_id == workload_id)
        )
        for cluster_id, replicas in placements.items():
            session.add(
                WorkloadPlacement(workload_id=workload_id, cluster_id=cluster_id, replicas=replicas)
            )
        await session.execute(
            update(Workload)
            .where(Workload.id == workload_id)
            .values(desired_generation=Workload.desired_generation + 1)
        )


async def request_deletion(database: Database, workload_id: uuid.UUID) -> None:
    async with database.transaction() as session:
        await session.execute(
            update(Workload)
            .where(Workload.id == workload_id)
            .values(
                deletion_requested=True,
                status="Deleting",
                desired_generation=Workload.desired_generation + 1,
            )
        )


async def workload_status(database: Database, workload_id: uuid.UUID) -> tuple[str, str] | None:
    async with database.transaction() as session:
        row = (
            await session.execute(
                select(Workload.status, Workload.status_message).where(Workload.id == workload_id)
            )
        ).first()
    return None if row is None else (row.status, row.status_message)


async def eventually(
    probe: Callable[[], Awaitable[_Value]],
    accept: Callable[[_Value], bool],
    *,
    within: float = 30.0,
    interval: float = 0.1,
    what: str = "condition",
) -> _Value:
    """Poll ``probe`` until ``accept`` holds for its value; fail with the last value seen."""
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if accept(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {within}s; last: {value!r}")
        await asyncio.sleep(interval)


def deployments_in(cluster: Cluster, namespace: str) -> dict[str, dict[str, Any]]:
    """The Deployments the cluster's API server has in ``namespace``, as JSON, by name."""
    with cluster.api_client() as api:
        try:
            items = client.AppsV1Api(api).list_namespaced_deployment(namespace).items
        except ApiException as error:
            if error.status == 404:
                return {}
            raise
        documents: list[dict[str, Any]] = [api.sanitize_for_serialization(i) for i in items]
    return {document["metadata"]["name"]: document for document in documents}


async def deployments(cluster: Cluster, namespace: str) -> dict[str, dict[str, Any]]:
    return await asyncio.to_thread(deployments_in, cluster, namespace)


def config_maps_in(cluster: Cluster, namespace: str, selector: str) -> list[str]:
    with cluster.api_client() as api:
        items = (
            client.CoreV1Api(api)
            .list_namespaced_config_map(namespace, label_selector=selector)
            .items
        )
    return [str(api_object.metadata.name) for api_object in items if api_object.metadata]
