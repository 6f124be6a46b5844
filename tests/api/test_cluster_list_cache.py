"""Cluster lists come from each process's page cache; changes must still show as promised.

The application here runs its lifespan, so the cache follows ``NOTIFY placer_clusters_changed``
as it does when served. "Another process" is a raw SQL statement on the test's database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from app.auth.roles import Role
from app.clusters.cache import ClusterPageCache
from app.config import Settings
from tests.support.api import TokenFactory, auth
from tests.support.factories import cluster_payload, iaas_price_book

MAX_AGE = 1.0
Raw = psycopg.Connection[tuple[object, ...]]
TRIGGER = "clusters_notify_clusters_changed"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"reconcile": False, "cluster_list_max_age_seconds": MAX_AGE})


async def _until(condition: Callable[[], bool], within: float) -> bool:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


@pytest.fixture
async def serving(app: FastAPI) -> AsyncIterator[ClusterPageCache]:
    """The application started as a server starts it, its listener connected."""
    pages: ClusterPageCache = app.state.cluster_pages
    async with app.router.lifespan_context(app):
        assert await _until(lambda: pages.listening, within=10.0)
        yield pages


async def _list(client: httpx.AsyncClient, token: str, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/clusters", params=params, headers=auth(token))
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def _eventually(
    read: Callable[[], Awaitable[dict[str, Any]]],
    holds: Callable[[dict[str, Any]], bool],
    within: float,
) -> float:
    """Seconds until ``holds(await read())``; fails the test after ``within``."""
    started = time.monotonic()
    while not holds(await read()):
        assert time.monotonic() - started < within, f"not seen within {within} s"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def _create(client: httpx.AsyncClient, token: str, name: str, **fields: Any) -> None:
    response = await client.post(
        "/v1/clusters", json=cluster_payload(name, **fields), headers=auth(token)
    )
    assert response.status_code == 201, response.text


def _labels(page: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item["labels"] for item in page["items"]}


async def test_a_change_through_the_api_is_in_the_next_list(
    serving: ClusterPageCache, app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await _create(app_client, admin_token, "aws-tokyo")
    assert _labels(await _list(app_client, admin_token))["aws-tokyo"]["env"] == "prod"

    read = await app_client.get("/v1/clusters/aws-tokyo", headers=auth(admin_token))
    changed = await app_client.patch(
        "/v1/clusters/aws-tokyo",
        json={"labels": {"env": "staging"}},
        headers={**auth(admin_token), "If-Match": read.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text

    assert _labels(await _list(app_client, admin_token))["aws-tokyo"] == {"env": "staging"}


async def test_a_deleted_cluster_is_gone_from_the_next_list(
    serving: ClusterPageCache, app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await _create(app_client, admin_token, "aws-tokyo")
    await _create(app_client, admin_token, "aws-osaka")
    assert set(_labels(await _list(app_client, admin_token))) == {"aws-tokyo", "aws-osaka"}

    deleted = await app_client.delete("/v1/clusters/aws-osaka", headers=auth(admin_token))
    assert deleted.status_code == 204

    assert set(_labels(await _list(app_client, admin_token))) == {"aws-tokyo"}


async def test_a_change_by_another_process_shows_when_its_notification_arrives(
    serving: ClusterPageCache, app_client: httpx.AsyncClient, admin_token: str, raw_db: Raw
) -> None:
    await _create(app_client, admin_token, "aws-tokyo")
    await _create(app_client, admin_token, "aws-osaka")
    assert set(_labels(await _list(app_client, admin_token))) == {"aws-tokyo", "aws-osaka"}

    raw_db.execute("UPDATE clusters SET labels = '{\"env\": \"dr\"}' WHERE name = 'aws-tokyo'")
    raw_db.execute("DELETE FROM clusters WHERE name = 'aws-osaka'")

    waited = await _eventually(
        lambda: _list(app_client, admin_token),
        lambda page: _labels(page) == {"aws-tokyo": {"env": "dr"}},
        within=MAX_AGE,
    )
    # Well before the page's age would have dropped it: the notification did.
    assert waited < MAX_AGE / 2


async def test_pages_are_cached_and_a_lost_notification_delays_a_change_by_the_max_age(
    serving: ClusterPageCache, app_client: httpx.AsyncClient, admin_token: str, raw_db: Raw
) -> None:
    # No notification at all, not even the late one of the create, which would empty the cache.
    raw_db.execute(f"ALTER TABLE clusters DISABLE TRIGGER {TRIGGER}")
    await _create(app_client, admin_token, "aws-tokyo")
    assert _labels(await _list(app_client, admin_token))["aws-tokyo"]["env"] == "prod"

    raw_db.execute("UPDATE clusters SET labels = '{\"env\": \"dr\"}' WHERE name = 'aws-tokyo'")
    changed_at = time.monotonic()

    assert _labels(await _list(app_client, admin_token))["aws-tokyo"]["env"] == "prod"
    await _eventually(
        lambda: _list(app_client, admin_token),
        lambda page: _labels(page)["aws-tokyo"] == {"env": "dr"},
        within=MAX_AGE + 0.5,
    )
    assert time.monotonic() - changed_at <= MAX_AGE + 0.5


async def test_a_price_book_version_taking_effect_shows_within_the_max_age(
    serving: ClusterPageCache, app_client: httpx.AsyncClient, admin_token: str
) -> None:
    book = await app_client.post(
        "/v1/price-books", json=iaas_price_book(), headers=auth(admin_token)
    )
    assert book.status_code == 201, book.text
    await _create(app_client, admin_token, "aws-tokyo", priceBook="aws-on-demand")
    effective_from = datetime.now(UTC) + timedelta(seconds=1.5)
    added = await app_client.post(
        "/v1/price-books/aws-on-demand/versions",
        json={
            "effectiveFrom": effective_from.isoformat().replace("+00:00", "Z"),
            "rates": {"cpuPerVcpuHour": "0.05", "memoryPerGibHour": "0.006"},
        },
        headers=auth(admin_token),
    )
    assert added.status_code == 201, added.text

    def version(page: dict[str, Any]) -> int:
        pricing: dict[str, Any] = page["items"][0]["pricing"]
        return int(pricing["version"])

    assert version(await _list(app_client, admin_token)) == 1
    await _eventually(
        lambda: _list(app_client, admin_token), lambda page: version(page) == 2, within=5.0
    )
    shown_at = datetime.now(UTC)
    assert shown_at - effective_from <= timedelta(seconds=MAX_AGE + 0.5)


async def test_each_query_gets_its_own_page_and_every_request_is_authorized(
    serving: ClusterPageCache,
    app_client: httpx.AsyncClient,
    admin_token: str,
    token_factory: TokenFactory,
) -> None:
    await _create(app_client, admin_token, "aws-tokyo")
    await _create(app_client, admin_token, "gcp-tokyo", provider="gcp", labels={"env": "dev"})
    viewer = await token_factory(Role.VIEWER)

    def names(page: dict[str, Any]) -> list[str]:
        return [item["name"] for item in page["items"]]

    for _ in range(2):
        assert names(await _list(app_client, admin_token)) == ["aws-tokyo", "gcp-tokyo"]
        assert names(await _list(app_client, viewer, provider="gcp")) == ["gcp-tokyo"]
        assert names(await _list(app_client, admin_token, labelSelector="env=prod")) == [
            "aws-tokyo"
        ]
        first = await _list(app_client, viewer, limit=1)
        assert names(first) == ["aws-tokyo"]
        assert names(await _list(app_client, viewer, limit=1, cursor=first["nextCursor"])) == [
            "gcp-tokyo"
        ]
        assert names(await _list(app_client, admin_token, country="jp", state="Cordoned")) == []

    anonymous = await app_client.get("/v1/clusters")
    assert anonymous.status_code == 401
    wrong = await app_client.get("/v1/clusters", headers=auth("placer_not-a-token"))
    assert wrong.status_code == 401
    bad_selector = await app_client.get(
        "/v1/clusters", params={"labelSelector": "env in"}, headers=auth(viewer)
    )
    assert bad_selector.status_code == 422


async def test_while_the_listener_is_down_lists_read_the_database(
    serving: ClusterPageCache, app_client: httpx.AsyncClient, admin_token: str, raw_db: Raw
) -> None:
    await _create(app_client, admin_token, "aws-tokyo")
    assert _labels(await _list(app_client, admin_token))["aws-tokyo"]["env"] == "prod"
    raw_db.execute(f"ALTER TABLE clusters DISABLE TRIGGER {TRIGGER}")

    raw_db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE query LIKE 'LISTEN %placer_clusters_changed%'"
    )
    assert await _until(lambda: not serving.listening, within=5.0)
    assert _labels(await _list(app_client, admin_token))["aws-tokyo"]["env"] == "prod"
    raw_db.execute("UPDATE clusters SET labels = '{\"env\": \"dr\"}' WHERE name = 'aws-tokyo'")

    assert _labels(await _list(app_client, admin_token))["aws-tokyo"] == {"env": "dr"}
    assert await _until(lambda: serving.listening, within=10.0)


async def test_requests_for_a_page_being_read_wait_for_that_read(
    serving: ClusterPageCache, app: FastAPI, app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await _create(app_client, admin_token, "aws-tokyo")
    await _list(app_client, admin_token)
    page_queries: list[str] = []

    def note(*arguments: Any) -> None:
        if "FROM clusters" in arguments[2]:
            page_queries.append(arguments[2])

    engine = app.state.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        serving.changed()
        pages = await asyncio.gather(*(_list(app_client, admin_token) for _ in range(10)))
    finally:
        event.remove(engine, "before_cursor_execute", note)

    assert len(page_queries) == 1
    assert all(_labels(page) == {"aws-tokyo": {"env": "prod", "tier": "web"}} for page in pages)
