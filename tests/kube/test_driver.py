"""The Kubernetes driver against real kube-apiservers: apply, status, delete, inventory, errors.

The fleet's node simulator binds pods and reports them Running and Ready, and removes pods
being deleted, so rollouts and foreground deletion complete as in a real cluster.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from kubernetes import client

from app.clusters.credentials import (
    ClusterCredentials,
    check_connect_address,
    parse_allowed_networks,
)
from app.kube import (
    MANAGED_BY_LABEL,
    WORKLOAD_ID_LABEL,
    KubeClientPool,
    KubeConflictError,
    KubeDriver,
    KubeInvalidError,
    KubeTLSError,
    KubeUnauthorizedError,
    KubeUnreachableError,
    Rollout,
    TemporaryKubeError,
    WorkloadStatus,
    stamp_ownership,
)
from app.kubetypes import parse_resource
from tests.support.kubefleet import Cluster, Fleet

pytestmark = pytest.mark.kube

_Value = TypeVar("_Value")
WAIT_SECONDS = 90.0
LOOPBACK = parse_allowed_networks("127.0.0.0/8")


@pytest.fixture
def pool() -> Iterator[KubeClientPool]:
    pool = KubeClientPool(address_guard=lambda address: check_connect_address(address, LOOPBACK))
    yield pool
    pool.close()


def _credentials(cluster: Cluster, **overrides: str) -> ClusterCredentials:
    fields = {"server": cluster.server, "ca_data": cluster.ca_pem.decode(), "token": cluster.token}
    return ClusterCredentials(**{**fields, **overrides})


def _driver(pool: KubeClientPool, cluster: Cluster) -> KubeDriver:
    return pool.driver(cluster.name, _credentials(cluster))


async def _eventually(
    read: Callable[[], Awaitable[_Value]],
    done: Callable[[_Value], bool],
) -> _Value:
    """The first value ``read`` gives that is ``done``, or the last one after WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        value = await read()
        if done(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.5)


async def _wait_ready(driver: KubeDriver, namespace: str, kind: str, name: str) -> WorkloadStatus:
    """Wait until the workload is ready, so no test leaves pods pending behind it."""
    status = await _eventually(
        lambda: driver.workload_status(namespace, kind, name),
        lambda s: s.rollout is Rollout.READY,
    )
    assert status.rollout is Rollout.READY, status
    return status


def _deployment(name: str, replicas: int, cpu: str = "100m") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
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


def _web_workload(workload_id: str, replicas: int = 2) -> list[dict[str, Any]]:
    manifests: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"}, "data": {"a": "1"}},
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
        },
        _deployment("web", replicas),
    ]
    return [stamp_ownership(manifest, workload_id=workload_id) for manifest in manifests]


async def test_apply_twice_changes_nothing_and_labels_what_placer_owns(
    kube_fleet: Fleet, kube_namespace: str, pool: KubeClientPool
) -> None:
    driver = _driver(pool, kube_fleet.cluster("onprem-tokyo"))
    await driver.ensure_namespace(kube_namespace, {"team": "shop"})

    first = await driver.apply(_web_workload("wl-1"), namespace=kube_namespace)
    second = await driver.apply(_web_workload("wl-1"), namespace=kube_namespace)
    owned = await driver.list_owned(kube_namespace, "wl-1")

    assert sorted((o.kind, o.name) for o in owned) == [
        ("ConfigMap", "web"),
        ("Deployment", "web"),
        ("Service", "web"),
    ]
    assert {o.workload_id for o in owned} == {"wl-1"}
    await _wait_ready(driver, kube_namespace, "Deployment", "web")
    by_kind = {obj["kind"]: obj["metadata"] for obj in second}
    for obj in first:
        metadata = by_kind[obj["kind"]]
        assert metadata["uid"] == obj["metadata"]["uid"]
        if obj["kind"] == "Deployment":
            # Its controller writes status between the applies; the spec was never changed.
            assert metadata["generation"] == obj["metadata"]["generation"] == 1
        else:
            assert metadata["resourceVersion"] == obj["metadata"]["resourceVersion"]
        assert metadata["labels"][MANAGED_BY_LABEL] == "placer"
        assert metadata["labels"][WORKLOAD_ID_LABEL] == "wl-1"
        assert {"placer"} <= {entry["manager"] for entry in metadata["managedFields"]}


async def test_ensure_namespace_creates_it_once_and_keeps_other_labels(
    kube_fleet: Fleet, kube_namespace: str, pool: KubeClientPool
) -> None:
    cluster = kube_fleet.cluster("iaas-tokyo")
    driver = _driver(pool, cluster)

    await driver.ensure_namespace(kube_namespace, {"team": "shop"})
    with cluster.api_client() as api:
        client.CoreV1Api(api).patch_namespace(
            kube_namespace, {"metadata": {"labels": {"owner": "someone-else"}}}
        )
    await driver.ensure_namespace(kube_namespace, {"team": "shop"})

    with cluster.api_client() as api:
        metadata = client.CoreV1Api(api).read_namespace(kube_namespace).metadata
    labels = (metadata.labels if metadata else None) or {}
    assert labels["team"] == "shop"
    assert labels["owner"] == "someone-else"


async def test_status_reaches_ready_and_follows_a_replica_change(
    kube_fleet: Fleet, kube_namespace: str, pool: KubeClientPool
) -> None:
    driver = _driver(pool, kube_fleet.cluster("onprem-tokyo"))
    await driver.ensure_namespace(kube_namespace)

    async def status() -> WorkloadStatus:
        return await driver.workload_status(kube_namespace, "Deployment", "web")

    await driver.apply(_web_workload("wl-1", replicas=2), namespace=kube_namespace)
    ready = await _eventually(status, lambda s: s.rollout is Rollout.READY)
    assert (ready.rollout, ready.desired_replicas, ready.ready_replicas) == (Rollout.READY, 2, 2)
    assert ready.condition("Available") is not None

    resized = [
        stamp_ownership(manifest, workload_id="wl-1", replicas=3)
        for manifest in _web_workload("wl-1")
        if manifest["kind"] == "Deployment"
    ]
    await driver.apply(resized, namespace=kube_namespace)
    grown = await _eventually(
        status, lambda s: s.rollout is Rollout.READY and s.ready_replicas == 3
    )
    assert (grown.rollout, grown.desired_replicas, grown.ready_replicas) == (Rollout.READY, 3, 3)


async def test_stateful_set_and_job_report_ready_pods(
    kube_fleet: Fleet, kube_namespace: str, pool: KubeClientPool
) -> None:
    driver = _driver(pool, kube_fleet.cluster("onprem-tokyo"))
    await driver.ensure_namespace(kube_namespace)
    pod_template = _deployment("db", 1)["spec"]["template"]
    stateful_set = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 2,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": pod_template,
        },
    }
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "report"},
        "spec": {
            "parallelism": 2,
            "completions": 4,
            "template": {
                "spec": {**pod_template["spec"], "restartPolicy": "Never"},
            },
        },
    }
    await driver.apply(
        [stamp_ownership(m, workload_id="wl-2") for m in (stateful_set, job)],
        namespace=kube_namespace,
    )

    db = await _wait_ready(driver, kube_namespace, "StatefulSet", "db")
    report = await _wait_ready(driver, kube_namespace, "Job", "report")
    assert db.ready_replicas == 2
    assert report.ready_replicas == 2


async def test_delete_owned_removes_one_workload_and_leaves_the_other(
    kube_fleet: Fleet, kube_namespace: str, pool: KubeClientPool
) -> None:
    driver = _driver(pool, kube_fleet.cluster("onprem-tokyo"))
    await driver.ensure_namespace(kube_namespace)
    await driver.apply(_web_workload("wl-1"), namespace=kube_namespace)
    await driver.apply(
        [stamp_ownership(_deployment("api", 1), workload_id="wl-2")], namespace=kube_namespace
    )
    await _wait_ready(driver, kube_namespace, "Deployment", "web")
    await _wait_ready(driver, kube_namespace, "Deployment", "api")

    deleted = await driver.delete_owned(kube_namespace, "wl-1")
    remaining = await _eventually(
        lambda: driver.list_owned(kube_namespace, "wl-1"), lambda owned: not owned
    )

    assert sorted(o.kind for o in deleted) == ["ConfigMap", "Deployment", "Service"]
    assert remaining == []
    assert [(o.kind, o.name) for o in await driver.list_owned(kube_namespace)] == [
        ("Deployment", "api")
    ]
    with kube_fleet.cluster("onprem-tokyo").api_client() as api:
        pods = client.CoreV1Api(api).list_namespaced_pod(
            kube_namespace, label_selector=f"{WORKLOAD_ID_LABEL}=wl-1"
        )
    assert pods.items == []


async def test_read_nodes_returns_the_simulated_allocatable_and_zones(
    kube_fleet: Fleet, pool: KubeClientPool
) -> None:
    cluster = kube_fleet.cluster("iaas-frankfurt")

    nodes = {node.name: node for node in await _driver(pool, cluster).read_nodes()}

    assert set(nodes) == {spec.name for spec in cluster.spec.nodes}
    for spec in cluster.spec.nodes:
        node = nodes[spec.name]
        assert node.allocatable["cpu"] == parse_resource("cpu", spec.cpu)
        assert node.allocatable["memory"] == parse_resource("memory", spec.memory)
        assert node.allocatable["pods"] == spec.pods
        assert (node.region, node.zone) == (cluster.spec.region, spec.zone)
        assert node.ready
        assert node.schedulable


async def test_pod_requests_in_use_counts_the_running_pods(
    kube_fleet: Fleet, kube_namespace: str, pool: KubeClientPool
) -> None:
    driver = _driver(pool, kube_fleet.cluster("iaas-frankfurt"))

    async def cpu_in_use() -> int:
        return sum(node["cpu"] for node in (await driver.pod_requests_in_use()).values())

    before = await cpu_in_use()
    await driver.ensure_namespace(kube_namespace)
    await driver.apply(
        [stamp_ownership(_deployment("busy", 3, cpu="1234m"), workload_id="wl-3")],
        namespace=kube_namespace,
    )
    await _wait_ready(driver, kube_namespace, "Deployment", "busy")
    after = await _eventually(cpu_in_use, lambda used: used - before == 3 * 1234)

    assert after - before == 3 * 1234


async def test_without_force_a_field_another_manager_owns_is_a_conflict(
    kube_fleet: Fleet, kube_namespace: str, pool: KubeClientPool
) -> None:
    cluster = kube_fleet.cluster("iaas-tokyo")
    driver = _driver(pool, cluster)
    await driver.ensure_namespace(kube_namespace)
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}}
    await driver.apply(
        [stamp_ownership({**config, "data": {"mode": "fast"}}, workload_id="wl-4")],
        namespace=kube_namespace,
    )
    await driver.apply(
        [{**config, "data": {"mode": "safe"}}],
        namespace=kube_namespace,
        field_manager="someone-else",
    )

    with pytest.raises(KubeConflictError) as conflict:
        await driver.apply(
            [stamp_ownership({**config, "data": {"mode": "fast"}}, workload_id="wl-4")],
            namespace=kube_namespace,
            force=False,
        )
    assert "someone-else" in conflict.value.message
    assert [cause.field for cause in conflict.value.causes] == [".data.mode"]


async def test_invalid_manifest_is_refused_with_the_servers_message(
    kube_fleet: Fleet, kube_namespace: str, pool: KubeClientPool
) -> None:
    driver = _driver(pool, kube_fleet.cluster("iaas-tokyo"))
    await driver.ensure_namespace(kube_namespace)

    with pytest.raises(KubeInvalidError) as invalid:
        await driver.apply([_deployment("web", -1)], namespace=kube_namespace)

    assert "must be greater than or equal to 0" in invalid.value.message
    assert "spec.replicas" in [cause.field for cause in invalid.value.causes]


async def test_a_kind_the_cluster_does_not_serve_is_invalid(
    kube_fleet: Fleet, kube_namespace: str, pool: KubeClientPool
) -> None:
    driver = _driver(pool, kube_fleet.cluster("iaas-tokyo"))
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}

    with pytest.raises(KubeInvalidError, match="does not serve kind Widget"):
        await driver.apply([widget], namespace=kube_namespace)


async def test_healthy_cluster_is_ready(kube_fleet: Fleet, pool: KubeClientPool) -> None:
    for cluster in kube_fleet.clusters:
        assert (await _driver(pool, cluster).readyz()).ready


async def test_wrong_ca_is_a_tls_error(kube_fleet: Fleet, pool: KubeClientPool) -> None:
    tokyo, frankfurt = kube_fleet.cluster("iaas-tokyo"), kube_fleet.cluster("iaas-frankfurt")
    credentials = _credentials(tokyo, ca_data=frankfurt.ca_pem.decode())

    with pytest.raises(KubeTLSError, match="not trusted"):
        await pool.driver("tokyo-with-wrong-ca", credentials).readyz()


async def test_bad_token_is_unauthorized(kube_fleet: Fleet, pool: KubeClientPool) -> None:
    credentials = _credentials(kube_fleet.cluster("iaas-tokyo"), token="not-the-token")

    with pytest.raises(KubeUnauthorizedError):
        await pool.driver("tokyo-with-bad-token", credentials).read_nodes()


async def test_stopped_apiserver_is_a_temporary_error(
    kube_fleet: Fleet, pool: KubeClientPool
) -> None:
    cluster = kube_fleet.cluster("iaas-tokyo")
    driver = _driver(pool, cluster)
    cluster.stop_apiserver()
    try:
        with pytest.raises(KubeUnreachableError) as unreachable:
            await driver.readyz()
    finally:
        cluster.start_apiserver()

    assert isinstance(unreachable.value, TemporaryKubeError)
    assert (await driver.readyz()).ready
