"""Every mutation leaves an audit event: who, what, when, before and after, secrets redacted."""

from __future__ import annotations

from typing import Any

import httpx

from app.auth.roles import Role
from tests.support.api import TokenFactory, auth
from tests.support.factories import (
    TEST_BEARER,
    cluster_payload,
    iaas_price_book,
    kubeconfig_text,
)


async def _events(client: httpx.AsyncClient, token: str, query: str = "") -> list[dict[str, Any]]:
    response = await client.get(f"/v1/audit-events?{query}", headers=auth(token))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_every_mutation_is_audited_with_before_and_after(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    headers = auth(admin_token)
    await app_client.post("/v1/price-books", json=iaas_price_book(), headers=headers)
    await app_client.post(
        "/v1/price-books/aws-on-demand/versions",
        json={
            "effectiveFrom": "2999-01-01T00:00:00Z",
            "rates": {"cpuPerVcpuHour": "1", "memoryPerGibHour": "1"},
        },
        headers=headers,
    )
    credentials = {"kubeconfig": kubeconfig_text()}
    await app_client.post(
        "/v1/clusters", json=cluster_payload(credentials=credentials), headers=headers
    )
    await app_client.patch("/v1/clusters/aws-tokyo", json={"region": "r2"}, headers=headers)
    for action in ("cordon", "drain", "uncordon"):
        await app_client.post(f"/v1/clusters/aws-tokyo/{action}", headers=headers)
    await app_client.delete("/v1/clusters/aws-tokyo", headers=headers)
    await app_client.delete("/v1/price-books/aws-on-demand", headers=headers)
    created = await app_client.post(
        "/v1/tokens", json={"name": "ci", "role": "viewer"}, headers=headers
    )
    await app_client.delete(f"/v1/tokens/{created.json()['id']}", headers=headers)

    events = list(reversed(await _events(app_client, admin_token, "actor=test-admin")))

    assert [(e["action"], e["resourceType"]) for e in events] == [
        ("price-book.create", "price-book"),
        ("price-book.add-version", "price-book"),
        ("cluster.create", "cluster"),
        ("cluster.update", "cluster"),
        ("cluster.cordon", "cluster"),
        ("cluster.drain", "cluster"),
        ("cluster.uncordon", "cluster"),
        ("cluster.delete", "cluster"),
        ("price-book.delete", "price-book"),
        ("token.create", "token"),
        ("token.revoke", "token"),
    ]
    by_action = {event["action"]: event for event in events}
    update = by_action["cluster.update"]
    assert update["before"]["region"] == "ap-northeast-1"
    assert update["after"]["region"] == "r2"
    assert by_action["cluster.create"]["before"] is None
    assert by_action["cluster.create"]["after"]["credentials"]["configured"] is True
    assert by_action["cluster.delete"]["after"] is None
    assert by_action["cluster.drain"]["after"]["state"] == "Draining"
    for event in events:
        assert event["actor"] == "test-admin"
        assert event["actorRole"] == "admin"
        assert event["occurredAt"].endswith("Z")
        assert event["requestId"]
    assert TEST_BEARER not in str(events)
    assert created.json()["token"] not in str(events)


async def test_failed_mutations_leave_no_event(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await app_client.post(
        "/v1/clusters", json=cluster_payload(country="XX"), headers=auth(admin_token)
    )

    assert await _events(app_client, admin_token, "resourceType=cluster") == []


async def test_filters_by_resource_actor_and_time(
    app_client: httpx.AsyncClient, token_factory: TokenFactory
) -> None:
    admin = await token_factory(Role.ADMIN)
    compliance = await token_factory(Role.COMPLIANCE)
    for name in ("a", "b"):
        await app_client.post("/v1/clusters", json=cluster_payload(name), headers=auth(admin))
    newest = (await _events(app_client, compliance))[0]

    only_b = await _events(app_client, compliance, "resourceType=cluster&resourceId=b")
    by_system = await _events(app_client, compliance, "actor=system:tests")
    since = await _events(
        app_client, compliance, str(httpx.QueryParams(since=newest["occurredAt"]))
    )
    until = await _events(
        app_client, compliance, str(httpx.QueryParams(until="2000-01-01T00:00:00Z"))
    )

    assert [e["resourceId"] for e in only_b] == ["b"]
    assert {e["action"] for e in by_system} == {"token.create"}
    assert newest["id"] in [e["id"] for e in since]
    assert until == []


async def test_pages_of_audit_events(app_client: httpx.AsyncClient, admin_token: str) -> None:
    for index in range(5):
        await app_client.post(
            "/v1/clusters", json=cluster_payload(f"c{index}"), headers=auth(admin_token)
        )
    first = await app_client.get(
        "/v1/audit-events?resourceType=cluster&limit=3", headers=auth(admin_token)
    )
    cursor = first.json()["nextCursor"]
    second = await app_client.get(
        "/v1/audit-events",
        params={"resourceType": "cluster", "limit": 3, "cursor": cursor},
        headers=auth(admin_token),
    )

    ids = [e["resourceId"] for e in first.json()["items"] + second.json()["items"]]
    assert ids == ["c4", "c3", "c2", "c1", "c0"]
    assert second.json()["nextCursor"] is None
