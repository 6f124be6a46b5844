"""Secret values in workload manifests are encrypted at rest with the service's key."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
from fastapi import FastAPI

from app.security.secretbox import SecretBox
from app.workloads.sealing import unseal_secrets
from tests.support.api import auth
from tests.support.factories import cluster_payload
from tests.support.workload_factories import deployment, workload_payload

PASSWORD = "hunter2-correct-horse"
TOKEN = "dG9rZW4tYmF0dGVyeS1zdGFwbGU="  # base64, as Secret ``data`` holds it


def _secret(password: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db"},
        "data": {"token": TOKEN},
        "stringData": {"password": password},
    }


def _stored_manifests(raw_db: psycopg.Connection[Any], workload_id: str) -> tuple[str, Any]:
    row = raw_db.execute(
        "SELECT manifests::text, manifests FROM workloads WHERE id = %s", (workload_id,)
    ).fetchone()
    assert row is not None
    return row[0], row[1]


async def test_secret_values_are_stored_encrypted_and_decrypt_to_what_was_submitted(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    admin_token: str,
    raw_db: psycopg.Connection[Any],
) -> None:
    headers = auth(admin_token)
    assert (
        await app_client.post("/v1/clusters", json=cluster_payload("c1"), headers=headers)
    ).is_success
    body = workload_payload(manifests=[deployment(), _secret(PASSWORD)])
    created = await app_client.post("/v1/workloads", json=body, headers=headers)
    assert created.status_code == 201, created.text
    workload = created.json()

    text, stored = _stored_manifests(raw_db, workload["id"])
    assert PASSWORD not in text
    assert TOKEN not in text
    box: SecretBox = app.state.cluster_policy.secret_box
    assert unseal_secrets(stored, box) == body["manifests"]

    changed = await app_client.patch(
        f"/v1/workloads/{workload['id']}",
        json={"manifests": [deployment(), _secret("rotated-secret-value")]},
        headers={**headers, "If-Match": workload["etag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["desiredGeneration"] == workload["desiredGeneration"] + 1
    text, stored = _stored_manifests(raw_db, workload["id"])
    assert "rotated-secret-value" not in text
    assert unseal_secrets(stored, box)[1]["stringData"] == {"password": "rotated-secret-value"}


async def test_an_update_that_leaves_the_secret_alone_is_not_a_manifest_change(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    headers = auth(admin_token)
    assert (
        await app_client.post("/v1/clusters", json=cluster_payload("c1"), headers=headers)
    ).is_success
    body = workload_payload(manifests=[deployment(), _secret(PASSWORD)])
    workload = (await app_client.post("/v1/workloads", json=body, headers=headers)).json()

    same = await app_client.put(
        f"/v1/workloads/{workload['id']}",
        json={key: body[key] for key in ("team", "labels", "manifests", "placement")},
        headers={**headers, "If-Match": workload["etag"]},
    )

    assert same.status_code == 200, same.text
    assert same.json()["revision"] == workload["revision"]
    assert same.json()["desiredGeneration"] == workload["desiredGeneration"]


async def test_a_secret_value_that_is_not_a_string_is_refused_naming_it(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    secret = _secret(PASSWORD)
    secret["stringData"]["port"] = 5432
    body = workload_payload(manifests=[deployment(), secret])

    refused = await app_client.post("/v1/workloads", json=body, headers=auth(admin_token))

    assert refused.status_code == 422
    assert refused.json()["field"] == "manifests[1].stringData.port"


async def test_sending_back_a_read_keeps_the_stored_secret_values(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    admin_token: str,
    raw_db: psycopg.Connection[Any],
) -> None:
    headers = auth(admin_token)
    assert (
        await app_client.post("/v1/clusters", json=cluster_payload("c1"), headers=headers)
    ).is_success
    body = workload_payload(manifests=[deployment(), _secret(PASSWORD)])
    workload = (await app_client.post("/v1/workloads", json=body, headers=headers)).json()
    read = (await app_client.get(f"/v1/workloads/{workload['id']}", headers=headers)).json()
    assert read["manifests"][1]["stringData"] == {"password": "[redacted]"}

    sent_back = read["manifests"]
    sent_back[0]["spec"]["replicas"] = 3
    changed = await app_client.patch(
        f"/v1/workloads/{workload['id']}",
        json={"manifests": sent_back},
        headers={**headers, "If-Match": read["etag"]},
    )
    assert changed.status_code == 200, changed.text
    box: SecretBox = app.state.cluster_policy.secret_box
    _, stored = _stored_manifests(raw_db, workload["id"])
    assert unseal_secrets(stored, box)[1] == _secret(PASSWORD)

    sent_back[1]["stringData"]["apiKey"] = "[redacted]"
    refused = await app_client.patch(
        f"/v1/workloads/{workload['id']}",
        json={"manifests": sent_back},
        headers=headers,
    )
    assert refused.status_code == 422
    assert refused.json()["field"] == "manifests[1].stringData.apiKey"
