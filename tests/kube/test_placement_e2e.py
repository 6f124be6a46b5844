"""The product's main path on real clusters: submit over REST, Placer decides, the reconciler
started by the application deploys into the chosen kube-apiserver, status comes back.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from app.config import Settings
from app.kube import WORKLOAD_ID_LABEL
from app.main import create_app
from tests.kube.placer_fleet import cluster_document, deployments, eventually
from tests.support.api import auth
from tests.support.factories import iaas_price_book
from tests.support.kubefleet import Fleet
from tests.support.kubefleet.cluster import Cluster
from tests.support.workload_factories import deployment

pytestmark = pytest.mark.kube

# Frankfurt is far cheaper than Tokyo: only a residency policy keeps Japanese data in Tokyo.
PRICES = {"iaas-tokyo": "0.09", "iaas-frankfurt": "0.01"}


@pytest.fixture
async def live_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The application with its lifespan running: reconciler and inventory sync included."""
    application = create_app(
        settings.model_copy(
            update={"reconcile_interval_seconds": 0.2, "sync_interval_seconds": 0.5}
        )
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def api(live_app: FastAPI, kube_fleet: Fleet) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the live application, as admin, with the two IaaS fleet clusters registered."""
    transport = httpx.ASGITransport(app=live_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://placer.test") as client:
        token = await _admin_token(live_app)
        client.headers.update(auth(token))
        for name, cpu_price in PRICES.items():
            book = iaas_price_book(f"{name}-book", cpu=cpu_price, memory="0.001")
            assert (await client.post("/v1/price-books", json=book)).status_code == 201
            body = {**cluster_document(kube_fleet.cluster(name)), "priceBook": f"{name}-book"}
            response = await client.post("/v1/clusters", json=body)
            assert response.status_code == 201, response.text
        yield client


async def _admin_token(application: FastAPI) -> str:
    from app.auth.principal import Principal  # noqa: PLC0415
    from app.auth.roles import Role  # noqa: PLC0415
    from app.auth.service import TokenService  # noqa: PLC0415

    async with application.state.database.transaction() as session:
        return await TokenService(session).issue(
            name="e2e", role=Role.ADMIN, actor=Principal.system("tests")
        )


def _workload(name: str, namespace: str, replicas: int, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": namespace,
        "team": "shop",
        "labels": {},
        "manifests": [deployment(name, replicas=replicas, cpu="100m", memory="64Mi")],
        "placement": {"strategy": "single"},
        **fields,
    }


async def _status(api: httpx.AsyncClient, workload_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/workloads/{workload_id}")
    return {"gone": True} if response.status_code == 404 else dict(response.json())


async def test_submitted_workload_lands_in_the_chosen_cluster_and_runs(
    api: httpx.AsyncClient, kube_fleet: Fleet, kube_namespace: str
) -> None:
    response = await api.post("/v1/workloads", json=_workload("shop", kube_namespace, 3))
    assert response.status_code == 201, response.text
    workload = response.json()
    assert [p["cluster"] for p in workload["placements"]] == ["iaas-frankfurt"]
    decision = (await api.get(f"/v1/workloads/{workload['id']}/decision")).json()
    assert decision["outcome"] == "placed"

    frankfurt = kube_fleet.cluster("iaas-frankfurt")
    found = await eventually(
        lambda: deployments(frankfurt, kube_namespace), lambda d: "shop" in d, what="applied"
    )
    assert found["shop"]["metadata"]["labels"][WORKLOAD_ID_LABEL] == workload["id"]
    assert found["shop"]["spec"]["replicas"] == 3
    running = await eventually(
        lambda: _status(api, workload["id"]), lambda w: w.get("status") == "Running", what="Running"
    )
    assert running["statusMessage"] == "3/3 replicas ready (iaas-frankfurt 3/3)"
    assert await deployments(kube_fleet.cluster("iaas-tokyo"), kube_namespace) == {}
    events = (await api.get(f"/v1/workloads/{workload['id']}/events")).json()["items"]
    kinds = [event["kind"] for event in events]
    assert {"decided", "applied", "ready"} <= set(kinds)

    patched = await api.patch(
        f"/v1/workloads/{workload['id']}",
        json={"manifests": [deployment("shop", replicas=5, cpu="100m", memory="64Mi")]},
        headers={"If-Match": running["etag"]},
    )
    assert patched.status_code == 200, patched.text
    await eventually(
        lambda: deployments(frankfurt, kube_namespace),
        lambda d: d.get("shop", {}).get("spec", {}).get("replicas") == 5,
        what="5 replicas in iaas-frankfurt",
    )
    await eventually(
        lambda: _status(api, workload["id"]),
        lambda w: w.get("statusMessage") == "5/5 replicas ready (iaas-frankfurt 5/5)",
        what="Running with 5",
    )

    current = await _status(api, workload["id"])
    deleted = await api.delete(
        f"/v1/workloads/{workload['id']}", headers={"If-Match": current["etag"]}
    )
    assert deleted.status_code == 202, deleted.text
    await eventually(lambda: _status(api, workload["id"]), lambda w: "gone" in w, what="deleted")
    assert await deployments(frankfurt, kube_namespace) == {}


async def test_personal_data_stays_in_japan_though_frankfurt_is_cheaper(
    api: httpx.AsyncClient, kube_fleet: Fleet, kube_namespace: str
) -> None:
    labels = {"data-class": "personal", "customer-region": "jp"}
    response = await api.post(
        "/v1/workloads", json=_workload("members", kube_namespace, 2, labels=labels)
    )
    assert response.status_code == 201, response.text
    workload = response.json()
    assert [p["cluster"] for p in workload["placements"]] == ["iaas-tokyo"]

    tokyo = kube_fleet.cluster("iaas-tokyo")
    await eventually(
        lambda: _status(api, workload["id"]), lambda w: w.get("status") == "Running", what="Running"
    )
    assert (await deployments(tokyo, kube_namespace))["members"]["spec"]["replicas"] == 2
    assert await deployments(kube_fleet.cluster("iaas-frankfurt"), kube_namespace) == {}


async def test_divided_placement_runs_in_two_clusters(
    api: httpx.AsyncClient, kube_fleet: Fleet, kube_namespace: str
) -> None:
    body = _workload(
        "split",
        kube_namespace,
        4,
        placement={
            "strategy": "divided",
            "divideBy": "weights",
            "weights": {"iaas-tokyo": 1, "iaas-frankfurt": 1},
        },
    )
    response = await api.post("/v1/workloads", json=body)
    assert response.status_code == 201, response.text
    workload = response.json()
    shares = {p["cluster"]: p["replicas"] for p in workload["placements"]}
    assert shares == {"iaas-tokyo": 2, "iaas-frankfurt": 2}
    await eventually(
        lambda: _status(api, workload["id"]), lambda w: w.get("status") == "Running", what="Running"
    )
    for name, replicas in shares.items():
        found = await deployments(kube_fleet.cluster(name), kube_namespace)
        assert found["split"]["spec"]["replicas"] == replicas


def _secret_values(cluster: Cluster, namespace: str, name: str) -> dict[str, str] | None:
    with cluster.api_client() as api:
        try:
            secret = client.CoreV1Api(api).read_namespaced_secret(name, namespace)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
    return {key: base64.b64decode(value).decode() for key, value in (secret.data or {}).items()}


async def test_secret_stored_sealed_is_applied_with_its_submitted_values(
    api: httpx.AsyncClient, kube_fleet: Fleet, kube_namespace: str
) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "shop-db"},
        "data": {"token": base64.b64encode(b"token-from-data").decode()},
        "stringData": {"password": "hunter2-in-the-cluster"},
    }
    body = _workload("shop", kube_namespace, 1)
    body["manifests"].append(secret)
    response = await api.post("/v1/workloads", json=body)
    assert response.status_code == 201, response.text
    assert "hunter2" not in response.text

    frankfurt = kube_fleet.cluster("iaas-frankfurt")
    applied = await eventually(
        lambda: asyncio.to_thread(_secret_values, frankfurt, kube_namespace, "shop-db"),
        lambda values: values is not None,
        what="Secret applied",
    )
    assert applied == {"token": "token-from-data", "password": "hunter2-in-the-cluster"}
