"""API tokens: issued once, stored as digests, expiring and revocable at once."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg

from app.auth.roles import Role
from app.auth.service import TokenService
from app.db.session import Database
from tests.support.api import TokenFactory, auth


async def test_created_token_works_with_its_role_and_is_stored_only_as_a_digest(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    created = await app_client.post(
        "/v1/tokens", json={"name": "ci-pipeline", "role": "operator"}, headers=auth(admin_token)
    )

    assert created.status_code == 201
    body = created.json()
    secret = body["token"]
    assert secret.startswith("placer_")
    assert body["role"] == "operator"
    assert body["active"] is True
    assert secret.startswith(body["prefix"])
    assert (await app_client.get("/v1/clusters", headers=auth(secret))).status_code == 200
    assert (await app_client.get("/v1/tokens", headers=auth(secret))).status_code == 403
    stored = raw_db.execute("SELECT token_hash FROM api_tokens WHERE name = 'ci-pipeline'")
    assert stored.fetchone() == (hashlib.sha256(secret.encode()).hexdigest(),)
    everything = str(raw_db.execute("SELECT * FROM api_tokens").fetchall())
    everything += str(raw_db.execute("SELECT * FROM audit_events").fetchall())
    assert secret not in everything
    listed = await app_client.get("/v1/tokens", headers=auth(admin_token))
    assert secret not in listed.text
    assert "ci-pipeline" in listed.text


async def test_revoked_token_is_refused_at_once(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    created = (
        await app_client.post(
            "/v1/tokens", json={"name": "leaked", "role": "viewer"}, headers=auth(admin_token)
        )
    ).json()
    assert (await app_client.get("/v1/clusters", headers=auth(created["token"]))).status_code == 200

    revoked = await app_client.delete(f"/v1/tokens/{created['id']}", headers=auth(admin_token))

    assert revoked.status_code == 200
    assert revoked.json()["active"] is False
    refused = await app_client.get("/v1/clusters", headers=auth(created["token"]))
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]


async def test_expired_token_is_refused(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    created = (
        await app_client.post(
            "/v1/tokens",
            json={"name": "short", "role": "viewer", "expiresAt": soon},
            headers=auth(admin_token),
        )
    ).json()
    raw_db.execute(
        "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = %s",
        (created["id"],),
    )

    refused = await app_client.get("/v1/clusters", headers=auth(created["token"]))

    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]


async def test_expiry_in_the_past_and_unknown_role_are_refused(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    past = await app_client.post(
        "/v1/tokens",
        json={"name": "x", "role": "viewer", "expiresAt": "2000-01-01T00:00:00Z"},
        headers=auth(admin_token),
    )
    role = await app_client.post(
        "/v1/tokens", json={"name": "x", "role": "root"}, headers=auth(admin_token)
    )

    assert past.status_code == 422
    assert past.json()["field"] == "expiresAt"
    assert role.status_code == 422
    assert role.json()["field"] == "role"


async def test_bootstrap_token_from_configuration_is_an_admin(
    app_client: httpx.AsyncClient, app: Any
) -> None:
    configured = "placer_configured-bootstrap-token-0123456789"
    database: Database = app.state.database
    for _ in range(2):
        async with database.transaction() as session:
            assert await TokenService(session).ensure_bootstrap(configured) is None

    response = await app_client.get("/v1/tokens", headers=auth(configured))

    assert response.status_code == 200
    assert [token["name"] for token in response.json()["items"]] == ["bootstrap-admin"]


async def test_first_start_without_configuration_generates_one_admin_token(
    app_client: httpx.AsyncClient, app: Any, token_factory: TokenFactory
) -> None:
    database: Database = app.state.database
    async with database.transaction() as session:
        generated = await TokenService(session).ensure_bootstrap(None)
    async with database.transaction() as session:
        again = await TokenService(session).ensure_bootstrap(None)

    assert generated is not None
    assert again is None
    assert (await app_client.get("/v1/tokens", headers=auth(generated))).status_code == 200
    assert await token_factory(Role.VIEWER)
