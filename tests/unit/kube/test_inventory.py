"""Capacity and use are read from Nodes and Pods as the Kubernetes scheduler accounts them."""

from __future__ import annotations

from typing import Any

import pytest

from app.kube import node_info, pod_requests
from app.kube.inventory import requests_by_node
from app.kubetypes import Taint, TaintEffect

NODE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {
        "name": "node-a",
        "labels": {
            "topology.kubernetes.io/region": "ap-northeast-1",
            "topology.kubernetes.io/zone": "ap-northeast-1a",
        },
    },
    "spec": {
        "taints": [
            {
                "key": "gpu",
                "value": "true",
                "effect": "NoSchedule",
                "timeAdded": "2026-01-01T00:00:00Z",
            }
        ]
    },
    "status": {
        "allocatable": {
            "cpu": "3920m",
            "memory": "16316412Ki",
            "pods": "110",
            "nvidia.com/gpu": "2",
            "ephemeral-storage": "95Gi",
        },
        "conditions": [
            {"type": "MemoryPressure", "status": "False"},
            {"type": "Ready", "status": "True"},
        ],
    },
}


def test_node_allocatable_is_in_base_units_with_its_place_and_taints() -> None:
    node = node_info(NODE)

    assert node.allocatable == {
        "cpu": 3920,
        "memory": 16316412 * 1024,
        "pods": 110,
        "nvidia.com/gpu": 2,
    }
    assert (node.region, node.zone) == ("ap-northeast-1", "ap-northeast-1a")
    assert node.ready
    assert node.schedulable
    assert node.taints == (Taint("gpu", "true", TaintEffect.NO_SCHEDULE),)


def test_node_not_ready_or_cordoned_is_reported_so() -> None:
    node = node_info(
        {
            "metadata": {"name": "node-b"},
            "spec": {"unschedulable": True},
            "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]},
        }
    )

    assert not node.ready
    assert not node.schedulable
    assert node.allocatable == {"cpu": 0, "memory": 0, "pods": 0, "nvidia.com/gpu": 0}
    assert node.zone is None


def _container(name: str, **requests: str) -> dict[str, Any]:
    return {"name": name, "image": "busybox", "resources": {"requests": requests}}


def _pod(**spec: Any) -> dict[str, Any]:
    return {"spec": {"nodeName": "node-a", **spec}, "status": {"phase": "Running"}}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            {"containers": [_container("a", cpu="250m", memory="64Mi"), _container("b", cpu="1")]},
            {"cpu": 1250, "memory": 64 * 2**20},
            id="containers add up",
        ),
        pytest.param(
            {
                "initContainers": [_container("migrate", cpu="2", memory="1Gi")],
                "containers": [_container("app", cpu="500m", memory="2Gi")],
            },
            {"cpu": 2000, "memory": 2 * 2**30},
            id="largest init container wins per resource",
        ),
        pytest.param(
            {
                "initContainers": [
                    {**_container("proxy", cpu="100m"), "restartPolicy": "Always"},
                    _container("setup", cpu="1"),
                ],
                "containers": [_container("app", cpu="500m")],
            },
            {"cpu": 1100},
            id="sidecars run beside later init containers and the app",
        ),
        pytest.param(
            {"containers": [_container("app", cpu="1")], "overhead": {"cpu": "250m"}},
            {"cpu": 1250},
            id="runtime overhead is added",
        ),
        pytest.param(
            {
                "resources": {"requests": {"cpu": "3", "memory": "1Gi"}},
                "containers": [_container("app", cpu="1", memory="512Mi")],
            },
            {"cpu": 3000, "memory": 2**30},
            id="pod-level requests replace the containers'",
        ),
        pytest.param(
            {"containers": [_container("app", memory="100m", **{"nvidia.com/gpu": "1"})]},
            {"memory": 1, "nvidia.com/gpu": 1},
            id="a fraction of a byte counts as a whole one",
        ),
        pytest.param({"containers": [{"name": "app", "image": "x"}]}, {}, id="no requests"),
    ],
)
def test_pod_requests(spec: dict[str, Any], expected: dict[str, int]) -> None:
    assert pod_requests(_pod(**spec)) == {
        "cpu": 0,
        "memory": 0,
        "nvidia.com/gpu": 0,
        **expected,
        "pods": 1,
    }


def test_use_per_node_counts_only_bound_unfinished_pods() -> None:
    app = [_container("app", cpu="500m", memory="1Gi")]
    pods = [
        _pod(containers=app),
        _pod(containers=app),
        {"spec": {"nodeName": "node-b", "containers": app}, "status": {"phase": "Pending"}},
        {"spec": {"nodeName": "node-a", "containers": app}, "status": {"phase": "Succeeded"}},
        {"spec": {"containers": app}, "status": {"phase": "Pending"}},
    ]

    assert requests_by_node(pods) == {
        "node-a": {"cpu": 1000, "memory": 2 * 2**30, "pods": 2, "nvidia.com/gpu": 0},
        "node-b": {"cpu": 500, "memory": 2**30, "pods": 1, "nvidia.com/gpu": 0},
    }
