"""``Idempotency-Key`` on creates: one resource however often a request is retried."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from app.auth.roles import Role
from app.idempotency.service import lock_id_for
from tests.support.api import TokenFactory, auth
from tests.support.factories import cluster_payload, iaas_price_book


def _with_key(token: str, key: str) -> dict[str, str]:
    return {**auth(token), "Idempotency-Key": key}


async def test_same_key_and_body_replays_the_first_response(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    first = await app_client.post(
        "/v1/clusters", json=cluster_payload(), headers=_with_key(admin_token, "k-1")
    )
    reordered = dict(reversed(list(cluster_payload().items())))
    second = await app_client.post(
        "/v1/clusters", json=reordered, headers=_with_key(admin_token, "k-1")
    )

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["location"] == "/v1/clusters/aws-tokyo"
    assert second.headers["idempotent-replayed"] == "true"
    assert raw_db.execute("SELECT count(*) FROM clusters").fetchone() == (1,)
    audited = "SELECT count(*) FROM audit_events WHERE action = 'cluster.create'"
    assert raw_db.execute(audited).fetchone() == (1,)


async def test_same_key_with_another_body_is_422(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await app_client.post(
        "/v1/clusters", json=cluster_payload(), headers=_with_key(admin_token, "k")
    )
    other = await app_client.post(
        "/v1/clusters", json=cluster_payload("other"), headers=_with_key(admin_token, "k")
    )

    assert other.status_code == 422
    assert other.json()["field"] == "Idempotency-Key"
    assert raw_db.execute("SELECT name FROM clusters").fetchall() == [("aws-tokyo",)]


async def test_same_key_while_the_first_request_runs_is_409(
    app_client: httpx.AsyncClient,
    token_factory: TokenFactory,
    raw_db: psycopg.Connection[Any],
    db_url: str,
) -> None:
    token = await token_factory(Role.ADMIN)
    token_id = raw_db.execute("SELECT id FROM api_tokens").fetchone()
    assert token_id is not None
    # Another transaction holds the key's lock, exactly as a first request in flight does.
    with psycopg.connect(db_url) as in_flight:
        in_flight.execute(
            "SELECT pg_advisory_xact_lock(%s)",
            (lock_id_for(str(token_id[0]), "POST /v1/clusters", "k"),),
        )
        response = await app_client.post(
            "/v1/clusters", json=cluster_payload(), headers=_with_key(token, "k")
        )
    retried = await app_client.post(
        "/v1/clusters", json=cluster_payload(), headers=_with_key(token, "k")
    )

    assert response.status_code == 409
    assert response.json()["field"] == "Idempotency-Key"
    assert retried.status_code == 201


async def test_a_failed_first_attempt_does_not_block_a_corrected_retry(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    bad = await app_client.post(
        "/v1/clusters", json=cluster_payload(country="XX"), headers=_with_key(admin_token, "k")
    )
    good = await app_client.post(
        "/v1/clusters", json=cluster_payload(), headers=_with_key(admin_token, "k")
    )

    assert bad.status_code == 422
    assert good.status_code == 201


async def test_keys_belong_to_one_token(
    app_client: httpx.AsyncClient, token_factory: TokenFactory, raw_db: psycopg.Connection[Any]
) -> None:
    first, second = await token_factory(Role.ADMIN), await token_factory(Role.ADMIN)
    await app_client.post("/v1/clusters", json=cluster_payload("a"), headers=_with_key(first, "k"))
    other = await app_client.post(
        "/v1/clusters", json=cluster_payload("b"), headers=_with_key(second, "k")
    )

    assert other.status_code == 201
    assert raw_db.execute("SELECT count(*) FROM clusters").fetchone() == (2,)


async def test_price_book_creates_are_idempotent_too(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    responses = [
        await app_client.post(
            "/v1/price-books", json=iaas_price_book(), headers=_with_key(admin_token, "pb")
        )
        for _ in range(3)
    ]

    assert [r.status_code for r in responses] == [201, 201, 201]
    assert raw_db.execute("SELECT count(*) FROM price_book_versions").fetchone() == (1,)


@pytest.mark.parametrize("key", ["", "x" * 256, "has space"])
async def test_malformed_keys_are_refused(
    app_client: httpx.AsyncClient, admin_token: str, key: str
) -> None:
    response = await app_client.post(
        "/v1/clusters", json=cluster_payload(), headers=_with_key(admin_token, key)
    )

    assert response.status_code == 422
    assert response.json()["field"] == "Idempotency-Key"
