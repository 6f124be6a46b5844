"""Workloads on every test cluster behave as on a real cluster: apply, ready, scale, delete."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.kubefleet import (
    DEFAULT_FLEET,
    EXIT_CODE_ANNOTATION,
    RUN_SECONDS_ANNOTATION,
    Cluster,
    Fleet,
)
from tests.support.kubefleet.objects import (
    allocatable_of,
    condition_true,
    labels_of,
    name_of,
    pod_node,
    pod_running_and_ready,
    quantity,
)
from tests.support.kubefleet.processes import wait_until

pytestmark = pytest.mark.kube

_APPLY = "application/apply-patch+yaml"
_MANAGER = "placer-tests"
_TIMEOUT = 60.0


def _deployment(name: str, replicas: int, **pod_spec: Any) -> dict[str, Any]:
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
                            "name": "web",
                            "image": "registry.example/web:1.0",
                            "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}},
                        }
                    ],
                    **pod_spec,
                },
            },
        },
    }


def _apply(apps: client.AppsV1Api, namespace: str, manifest: dict[str, Any]) -> None:
    apps.patch_namespaced_deployment(
        manifest["metadata"]["name"],
        namespace,
        manifest,
        field_manager=_MANAGER,
        force=True,
        _content_type=_APPLY,
    )


def _pods(core: client.CoreV1Api, namespace: str, app: str) -> list[client.V1Pod]:
    return list(core.list_namespaced_pod(namespace, label_selector=f"app={app}").items)


def _wait_ready_replicas(
    apps: client.AppsV1Api, core: client.CoreV1Api, namespace: str, name: str, replicas: int
) -> None:
    def settled() -> bool:
        status = apps.read_namespaced_deployment_status(name, namespace).status
        pods = _pods(core, namespace, name)
        return (
            status is not None
            and status.ready_replicas == replicas
            and status.replicas == replicas
            and len(pods) == replicas
            and all(pod_running_and_ready(pod) for pod in pods)
        )

    wait_until(settled, _TIMEOUT, f"{replicas} ready replicas of {namespace}/{name}")


@pytest.mark.parametrize("cluster_name", [spec.name for spec in DEFAULT_FLEET])
def test_deployment_lifecycle_on_each_cluster(
    kube_fleet: Fleet, kube_namespace: str, cluster_name: str
) -> None:
    cluster = kube_fleet.cluster(cluster_name)
    with cluster.api_client() as api:
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=kube_namespace)))

        _apply(apps, kube_namespace, _deployment("web", 3))
        _wait_ready_replicas(apps, core, kube_namespace, "web", 3)
        node_names = {node.name for node in cluster.spec.nodes}
        assert {pod_node(pod) for pod in _pods(core, kube_namespace, "web")} <= node_names

        nodes = {name_of(node): node for node in core.list_node().items}
        assert set(nodes) == node_names
        for spec in cluster.spec.nodes:
            allocatable, labels = allocatable_of(nodes[spec.name]), labels_of(nodes[spec.name])
            assert quantity(allocatable["cpu"]) == quantity(spec.cpu)
            assert quantity(allocatable["memory"]) == quantity(spec.memory)
            assert int(allocatable["pods"]) == spec.pods
            assert labels["topology.kubernetes.io/region"] == cluster.spec.region
            assert labels["topology.kubernetes.io/zone"] == spec.zone

        _apply(apps, kube_namespace, _deployment("web", 5))
        _wait_ready_replicas(apps, core, kube_namespace, "web", 5)
        _apply(apps, kube_namespace, _deployment("web", 1))
        _wait_ready_replicas(apps, core, kube_namespace, "web", 1)

        apps.delete_namespaced_deployment("web", kube_namespace)
        wait_until(
            lambda: not _pods(core, kube_namespace, "web"),
            _TIMEOUT,
            "the deleted Deployment's pods to go",
        )
        with pytest.raises(ApiException) as missing:
            apps.read_namespaced_deployment("web", kube_namespace)
        assert missing.value.status == 404


def test_clusters_do_not_share_objects(kube_fleet: Fleet, kube_namespace: str) -> None:
    first, *others = kube_fleet.clusters
    with first.api_client() as api:
        client.CoreV1Api(api).create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name=kube_namespace))
        )
    for cluster in others:
        with cluster.api_client() as api:
            names = {name_of(ns) for ns in client.CoreV1Api(api).list_namespace().items}
        assert kube_namespace not in names
        assert first.ca_data != cluster.ca_data


def test_pods_wait_when_no_node_has_room(kube_fleet: Fleet, kube_namespace: str) -> None:
    cluster = kube_fleet.cluster("iaas-tokyo")
    largest_cpu = max(quantity(node.cpu) for node in cluster.spec.nodes)
    with cluster.api_client() as api:
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=kube_namespace)))
        manifest = _deployment("big", 1)
        container = manifest["spec"]["template"]["spec"]["containers"][0]
        container["resources"]["requests"]["cpu"] = str(largest_cpu + 1)
        _apply(apps, kube_namespace, manifest)

        def reported_unschedulable() -> bool:
            pods = _pods(core, kube_namespace, "big")
            conditions = pods[0].status.conditions if pods and pods[0].status else None
            return any(
                condition.type == "PodScheduled"
                and condition.status == "False"
                and "Insufficient cpu" in (condition.message or "")
                for condition in conditions or []
            )

        wait_until(reported_unschedulable, _TIMEOUT, "the pod to be reported unschedulable")
        (pod,) = _pods(core, kube_namespace, "big")
        assert pod_node(pod) is None
        assert pod.status is not None
        assert not condition_true(pod.status.conditions, "Ready")


def test_node_selector_pins_pods_to_a_zone(kube_fleet: Fleet, kube_namespace: str) -> None:
    cluster: Cluster = kube_fleet.cluster("iaas-frankfurt")
    zone = cluster.spec.zones[-1]
    with cluster.api_client() as api:
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=kube_namespace)))
        manifest = _deployment("zonal", 4, nodeSelector={"topology.kubernetes.io/zone": zone})
        _apply(apps, kube_namespace, manifest)
        _wait_ready_replicas(apps, core, kube_namespace, "zonal", 4)
        in_zone = {node.name for node in cluster.spec.nodes if node.zone == zone}
        assert {pod_node(pod) for pod in _pods(core, kube_namespace, "zonal")} <= in_zone


def test_daemonset_runs_one_pod_on_every_node(kube_fleet: Fleet, kube_namespace: str) -> None:
    cluster = kube_fleet.cluster("onprem-tokyo")
    with cluster.api_client() as api:
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=kube_namespace)))
        template = _deployment("agent", 1)["spec"]["template"]
        apps.patch_namespaced_daemon_set(
            "agent",
            kube_namespace,
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": {"name": "agent"},
                "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template},
            },
            field_manager=_MANAGER,
            _content_type=_APPLY,
        )

        def one_ready_pod_per_node() -> bool:
            status = apps.read_namespaced_daemon_set_status("agent", kube_namespace).status
            return status is not None and status.number_ready == len(cluster.spec.nodes)

        wait_until(one_ready_pod_per_node, _TIMEOUT, "a ready agent pod on every Node")
        placed = sorted(pod_node(pod) or "" for pod in _pods(core, kube_namespace, "agent"))
        assert placed == sorted(node.name for node in cluster.spec.nodes)


def test_statefulset_pods_become_ready_with_stable_names(
    kube_fleet: Fleet, kube_namespace: str
) -> None:
    cluster = kube_fleet.cluster("iaas-tokyo")
    with cluster.api_client() as api:
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=kube_namespace)))
        template = _deployment("db", 1)["spec"]["template"]
        apps.patch_namespaced_stateful_set(
            "db",
            kube_namespace,
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": {"name": "db"},
                "spec": {
                    "replicas": 3,
                    "serviceName": "db",
                    "selector": {"matchLabels": {"app": "db"}},
                    "template": template,
                },
            },
            field_manager=_MANAGER,
            _content_type=_APPLY,
        )

        def all_ready() -> bool:
            status = apps.read_namespaced_stateful_set_status("db", kube_namespace).status
            return status is not None and status.ready_replicas == 3

        wait_until(all_ready, _TIMEOUT, "3 ready db pods")
        assert sorted(name_of(pod) for pod in _pods(core, kube_namespace, "db")) == [
            "db-0",
            "db-1",
            "db-2",
        ]


def test_cordoned_node_gets_no_new_pods(kube_fleet: Fleet, kube_namespace: str) -> None:
    cluster = kube_fleet.cluster("iaas-tokyo")
    cordoned, *open_nodes = (node.name for node in cluster.spec.nodes)
    with cluster.api_client() as api:
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=kube_namespace)))
        core.patch_node(cordoned, {"spec": {"unschedulable": True}})
        try:
            _apply(apps, kube_namespace, _deployment("web", 4))
            _wait_ready_replicas(apps, core, kube_namespace, "web", 4)
        finally:
            core.patch_node(cordoned, {"spec": {"unschedulable": None}})
        assert {pod_node(pod) for pod in _pods(core, kube_namespace, "web")} <= set(open_nodes)


def _job(name: str, *, completions: int, exit_code: int) -> dict[str, Any]:
    template = _deployment(name, 1)["spec"]["template"]
    template["metadata"]["annotations"] = {
        RUN_SECONDS_ANNOTATION: "1",
        EXIT_CODE_ANNOTATION: str(exit_code),
    }
    template["spec"]["restartPolicy"] = "Never"
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "completions": completions,
            "parallelism": completions,
            "backoffLimit": 0,
            "template": template,
        },
    }


@pytest.mark.parametrize(("exit_code", "outcome"), [(0, "Complete"), (3, "Failed")])
def test_job_pods_exit_as_annotated(
    kube_fleet: Fleet, kube_namespace: str, exit_code: int, outcome: str
) -> None:
    cluster = kube_fleet.cluster("iaas-frankfurt")
    with cluster.api_client() as api:
        core, batch = client.CoreV1Api(api), client.BatchV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=kube_namespace)))
        batch.patch_namespaced_job(
            "report",
            kube_namespace,
            _job("report", completions=2, exit_code=exit_code),
            field_manager=_MANAGER,
            _content_type=_APPLY,
        )

        def finished() -> bool:
            status = batch.read_namespaced_job_status("report", kube_namespace).status
            return status is not None and condition_true(status.conditions, outcome)

        wait_until(finished, _TIMEOUT, f"the Job to be {outcome}")
        pods = _pods(core, kube_namespace, "report")
        expected_phase = "Succeeded" if exit_code == 0 else "Failed"
        assert pods
        assert {pod.status.phase if pod.status else None for pod in pods} == {expected_phase}
