import copy
from typing import Any

import pytest

from app.workloads.manifests import ManifestError, parse_manifests


def deployment(**overrides: Any) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "nginx:1.27",
                            "resources": {
                                "requests": {"cpu": "250m", "memory": "256Mi"},
                                "limits": {"cpu": "1", "memory": "512Mi"},
                            },
                        },
                        {
                            "name": "sidecar",
                            "image": "envoy:1",
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                        },
                    ],
                    "initContainers": [
                        {
                            "name": "migrate",
                            "image": "migrate:1",
                            "resources": {"requests": {"cpu": "1", "memory": "64Mi"}},
                        }
                    ],
                },
            },
        },
    }
    manifest.update(overrides)
    return manifest


SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web"},
    "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
}
CONFIG = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-config"}}


def test_requests_per_replica_follow_the_kubernetes_rule_for_init_containers() -> None:
    parsed = parse_manifests([deployment(), SERVICE, CONFIG], "shop")
    assert (parsed.kind, parsed.name, parsed.replicas) == ("Deployment", "web", 3)
    assert parsed.requests_per_replica == {"cpu": 1000, "memory": 320 * 2**20}
    assert len(parsed.objects) == 3


def test_a_job_uses_its_parallelism_as_replicas_and_needs_no_selector() -> None:
    job = deployment(apiVersion="batch/v1", kind="Job")
    del job["spec"]["selector"]
    job["spec"]["parallelism"] = 4
    del job["spec"]["replicas"]
    assert parse_manifests([job], "batch").replicas == 4


def at(path: str, value: Any) -> dict[str, Any]:
    """A deployment with the value at a dotted path (list indices as numbers) replaced."""
    manifest = copy.deepcopy(deployment())
    *parents, last = path.split(".")
    node: Any = manifest
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is DELETE:
        del node[int(last) if last.isdigit() else last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return manifest


DELETE = object()
CONTAINER = "spec.template.spec.containers.1"


@pytest.mark.parametrize(
    ("manifests", "field"),
    [
        ("not a list", "manifests"),
        ([], "manifests"),
        ([SERVICE], "manifests"),
        ([deployment(), deployment()], "manifests[1].metadata.name"),
        ([deployment(), at("metadata.name", "api")], "manifests[1].kind"),
        (["text"], "manifests[0]"),
        ([at("kind", "CronJob")], "manifests[0].kind"),
        ([at("apiVersion", "apps/v1beta1")], "manifests[0].apiVersion"),
        ([at("metadata.name", "Web_1")], "manifests[0].metadata.name"),
        ([at("metadata.namespace", "other")], "manifests[0].metadata.namespace"),
        ([at("metadata.labels", {"bad key": "x"})], "manifests[0].metadata.labels.bad key"),
        ([at("spec.replicas", -1)], "manifests[0].spec.replicas"),
        ([at("spec.replicas", "3")], "manifests[0].spec.replicas"),
        ([at("spec.selector", {"matchLabels": {"app": "api"}})], "manifests[0].spec.selector"),
        ([at("spec.selector", DELETE)], "manifests[0].spec.selector"),
        ([at("spec.template.spec.containers", [])], "manifests[0].spec.template.spec.containers"),
        (
            [at(f"{CONTAINER}.resources", DELETE)],
            "manifests[0].spec.template.spec.containers[1].resources.requests",
        ),
        (
            [at(f"{CONTAINER}.resources.requests", {"cpu": "1"})],
            "manifests[0].spec.template.spec.containers[1].resources.requests.memory",
        ),
        (
            [at(f"{CONTAINER}.resources.requests.cpu", "lots")],
            "manifests[0].spec.template.spec.containers[1].resources.requests.cpu",
        ),
        (
            [at("spec.template.spec.containers.0.resources.limits.memory", "128Mi")],
            "manifests[0].spec.template.spec.containers[0].resources.limits.memory",
        ),
        ([at(f"{CONTAINER}.image", "")], "manifests[0].spec.template.spec.containers[1].image"),
        ([at(f"{CONTAINER}.name", "app")], "manifests[0].spec.template.spec.containers[1].name"),
        (
            [at("spec.template.spec.initContainers.0.resources.requests.memory", DELETE)],
            "manifests[0].spec.template.spec.initContainers[0].resources.requests.memory",
        ),
        (
            [deployment(), {**SERVICE, "metadata": {"name": "web.svc"}}],
            "manifests[1].metadata.name",
        ),
    ],
)
def test_bad_manifests_are_refused_naming_the_manifest_and_field(
    manifests: Any, field: str
) -> None:
    with pytest.raises(ManifestError) as caught:
        parse_manifests(manifests, "shop")
    assert caught.value.field == field
