"""Bad input is a 4xx problem document naming the field, and nothing is stored."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from tests.support.api import auth
from tests.support.factories import cluster_payload

PROBLEM = "application/problem+json"


def _without(key: str) -> dict[str, Any]:
    payload = cluster_payload()
    del payload[key]
    return payload


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param(cluster_payload(colour="blue"), "colour", id="unknown-field"),
        pytest.param(cluster_payload(name="Not_A_DNS_Label"), "name", id="bad-name"),
        pytest.param(cluster_payload(kind="mainframe"), "kind", id="bad-kind"),
        pytest.param(cluster_payload(zones="ap-northeast-1a"), "zones", id="wrong-type"),
        pytest.param(cluster_payload(labels={"env": 3}), "labels.env", id="label-not-string"),
        pytest.param(_without("country"), "country", id="missing-field"),
        pytest.param(cluster_payload(country="XX"), "country", id="unknown-country"),
        pytest.param(cluster_payload(country="JPN"), "country", id="alpha-3-country"),
        pytest.param(cluster_payload(capacity={"cpu": "lots"}), "capacity.cpu", id="bad-quantity"),
        pytest.param(cluster_payload(capacity={"cpu": "0.5m"}), "capacity.cpu", id="sub-millicore"),
        pytest.param(
            cluster_payload(capacity={"memory": "-1Gi"}), "capacity.memory", id="negative"
        ),
        pytest.param(
            cluster_payload(capacity={"bad resource": "1"}),
            "capacity.bad resource",
            id="bad-resource-name",
        ),
        pytest.param(cluster_payload(labels={"-bad": "x"}), "labels.-bad", id="bad-label-key"),
        pytest.param(
            cluster_payload(labels={"env": "not valid!"}), "labels.env", id="bad-label-value"
        ),
        pytest.param(
            cluster_payload(taints=[{"key": "gpu", "effect": "Sometimes"}]),
            "taints[0].effect",
            id="bad-taint-effect",
        ),
        pytest.param(cluster_payload(zones=["a", "a"]), "zones", id="repeated-zone"),
        pytest.param(cluster_payload(priceBook="no-such-book"), "priceBook", id="missing-book"),
        pytest.param(
            cluster_payload(credentials={"server": "https://127.0.0.1:6443"}),
            "credentials.caData",
            id="credentials-incomplete",
        ),
    ],
)
async def test_invalid_cluster_is_refused_naming_the_field(
    app_client: httpx.AsyncClient,
    admin_token: str,
    raw_db: psycopg.Connection[Any],
    payload: dict[str, Any],
    field: str,
) -> None:
    response = await app_client.post("/v1/clusters", json=payload, headers=auth(admin_token))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422
    assert problem["field"] == field
    assert problem["title"]
    assert problem["type"].startswith("https://")
    assert raw_db.execute("SELECT count(*) FROM clusters").fetchone() == (0,)


async def test_malformed_json_is_400(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    response = await app_client.post(
        "/v1/clusters",
        content=b'{"name": "aws-tokyo", ',
        headers={**auth(admin_token), "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["field"] == "body"
    assert raw_db.execute("SELECT count(*) FROM clusters").fetchone() == (0,)


async def test_body_that_is_not_an_object_is_refused(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    response = await app_client.post("/v1/clusters", json=["aws-tokyo"], headers=auth(admin_token))

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


async def test_oversized_body_is_413_and_stores_nothing(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    payload = cluster_payload(labels={f"k{index}": "v" * 60 for index in range(20000)})
    response = await app_client.post("/v1/clusters", json=payload, headers=auth(admin_token))

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert raw_db.execute("SELECT count(*) FROM clusters").fetchone() == (0,)


async def test_oversized_chunked_body_without_length_is_413(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    async def chunks() -> Any:
        for _ in range(40):
            yield b" " * 65536

    response = await app_client.post(
        "/v1/clusters",
        content=chunks(),
        headers={**auth(admin_token), "Content-Type": "application/json"},
    )

    assert response.status_code == 413


@pytest.mark.parametrize("selector", ["env in (prod", "=prod", "a b", "gpus>many", "!"])
async def test_bad_label_selector_is_422(
    app_client: httpx.AsyncClient, admin_token: str, selector: str
) -> None:
    response = await app_client.get(
        "/v1/clusters", params={"labelSelector": selector}, headers=auth(admin_token)
    )

    assert response.status_code == 422
    assert response.json()["field"] == "labelSelector"


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=501", "limit"), ("limit=x", "limit"), ("kind=vm", "kind")],
)
async def test_bad_query_parameters_are_422(
    app_client: httpx.AsyncClient, admin_token: str, query: str, field: str
) -> None:
    response = await app_client.get(f"/v1/clusters?{query}", headers=auth(admin_token))

    assert response.status_code == 422
    assert response.json()["field"] == field


async def test_null_for_a_required_field_in_an_update_is_refused(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await app_client.post("/v1/clusters", json=cluster_payload(), headers=auth(admin_token))
    response = await app_client.patch(
        "/v1/clusters/aws-tokyo", json={"region": None}, headers=auth(admin_token)
    )

    assert response.status_code == 422
    assert response.json()["field"] == "region"
