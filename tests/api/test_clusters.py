"""The cluster inventory through the API: CRUD, quantities, jurisdictions, filters, pages, ETags."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from tests.support.api import auth
from tests.support.factories import cluster_payload, iaas_price_book, onprem_price_book


async def _create(client: httpx.AsyncClient, token: str, **overrides: Any) -> dict[str, Any]:
    response = await client.post(
        "/v1/clusters", json=cluster_payload(**overrides), headers=auth(token)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_created_cluster_reads_back_with_integers_and_kubernetes_quantities(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    created = await _create(
        app_client,
        admin_token,
        capacity={"cpu": "1500m", "memory": "64Gi", "nvidia.com/gpu": 8, "pods": "110"},
    )
    response = await app_client.get("/v1/clusters/aws-tokyo", headers=auth(admin_token))

    assert response.status_code == 200
    cluster = response.json()
    assert cluster == created
    assert cluster["capacity"] == {
        "cpu": {"amount": 1500, "quantity": "1500m"},
        "memory": {"amount": 64 * 2**30, "quantity": "64Gi"},
        "nvidia.com/gpu": {"amount": 8, "quantity": "8"},
        "pods": {"amount": 110, "quantity": "110"},
    }
    assert cluster["state"] == "Ready"
    assert cluster["credentials"] == {"configured": False, "server": None}
    assert response.headers["ETag"] == cluster["etag"]
    assert response.headers["content-type"] == "application/json"
    listed = await app_client.get("/v1/clusters", headers=auth(admin_token))
    assert listed.json() == {"items": [cluster], "nextCursor": None}


@pytest.mark.parametrize(
    ("country", "jurisdictions"),
    [
        ("jp", ["JP"]),
        ("DE", ["DE", "EEA", "EU"]),
        ("NO", ["EEA", "NO"]),
        ("CH", ["CH"]),
    ],
)
async def test_jurisdictions_are_derived_from_the_country(
    app_client: httpx.AsyncClient, admin_token: str, country: str, jurisdictions: list[str]
) -> None:
    cluster = await _create(app_client, admin_token, country=country)

    assert cluster["country"] == country.upper()
    assert cluster["jurisdictions"] == jurisdictions


async def test_duplicate_name_is_a_conflict_and_stores_nothing_more(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await _create(app_client, admin_token)
    response = await app_client.post(
        "/v1/clusters", json=cluster_payload(region="other"), headers=auth(admin_token)
    )

    assert response.status_code == 409
    assert response.json()["field"] == "name"
    assert raw_db.execute("SELECT count(*) FROM clusters").fetchone() == (1,)


async def test_unknown_cluster_is_a_404_problem(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    response = await app_client.get("/v1/clusters/nowhere", headers=auth(admin_token))

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


async def test_update_with_current_etag_changes_fields_and_etag(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    created = await _create(app_client, admin_token)
    response = await app_client.patch(
        "/v1/clusters/aws-tokyo",
        json={"labels": {"env": "staging"}, "capacity": {"cpu": "128"}, "country": "FR"},
        headers={**auth(admin_token), "If-Match": created["etag"]},
    )

    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["labels"] == {"env": "staging"}
    assert updated["capacity"] == {"cpu": {"amount": 128000, "quantity": "128"}}
    assert updated["jurisdictions"] == ["EEA", "EU", "FR"]
    assert updated["region"] == created["region"]
    assert updated["resourceVersion"] == created["resourceVersion"] + 1
    assert updated["etag"] != created["etag"]
    assert response.headers["ETag"] == updated["etag"]


async def test_update_with_stale_etag_is_412_and_changes_nothing(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    created = await _create(app_client, admin_token)
    first = await app_client.patch(
        "/v1/clusters/aws-tokyo",
        json={"region": "ap-northeast-3"},
        headers={**auth(admin_token), "If-Match": created["etag"]},
    )
    assert first.status_code == 200

    stale = await app_client.patch(
        "/v1/clusters/aws-tokyo",
        json={"region": "lost-update"},
        headers={**auth(admin_token), "If-Match": created["etag"]},
    )

    assert stale.status_code == 412
    assert stale.json()["field"] == "If-Match"
    current = (await app_client.get("/v1/clusters/aws-tokyo", headers=auth(admin_token))).json()
    assert current["region"] == "ap-northeast-3"


async def test_delete_with_stale_etag_is_412_then_with_current_etag_removes(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    created = await _create(app_client, admin_token)
    await app_client.post(
        "/v1/clusters/aws-tokyo/cordon", headers={**auth(admin_token), "If-Match": created["etag"]}
    )

    stale = await app_client.delete(
        "/v1/clusters/aws-tokyo", headers={**auth(admin_token), "If-Match": created["etag"]}
    )
    assert stale.status_code == 412
    current = await app_client.get("/v1/clusters/aws-tokyo", headers=auth(admin_token))
    deleted = await app_client.delete(
        "/v1/clusters/aws-tokyo",
        headers={**auth(admin_token), "If-Match": current.headers["ETag"]},
    )

    assert deleted.status_code == 204
    gone = await app_client.get("/v1/clusters/aws-tokyo", headers=auth(admin_token))
    assert gone.status_code == 404


async def test_cordon_drain_and_uncordon_move_the_state(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await _create(app_client, admin_token)
    states = []
    for action in ("cordon", "drain", "uncordon"):
        response = await app_client.post(
            f"/v1/clusters/aws-tokyo/{action}", headers=auth(admin_token)
        )
        assert response.status_code == 200, response.text
        body = response.json()
        states.append((body["state"], body["cordoned"], body["draining"]))

    assert states == [
        ("Cordoned", True, False),
        ("Draining", True, True),
        ("Ready", False, False),
    ]


async def _names(client: httpx.AsyncClient, token: str, query: str) -> list[str]:
    response = await client.get(f"/v1/clusters?{query}", headers=auth(token))
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def test_filters_and_label_selectors(app_client: httpx.AsyncClient, admin_token: str) -> None:
    await _create(app_client, admin_token, name="a-jp", labels={"env": "prod", "gpus": "8"})
    await _create(
        app_client,
        admin_token,
        name="b-de",
        country="DE",
        provider="gcp",
        region="europe-west3",
        labels={"env": "staging", "gpus": "2"},
    )
    await _create(
        app_client, admin_token, name="c-onprem", kind="onprem", provider="dc-tokyo-1", labels={}
    )
    await app_client.post("/v1/clusters/c-onprem/cordon", headers=auth(admin_token))

    assert await _names(app_client, admin_token, "kind=onprem") == ["c-onprem"]
    assert await _names(app_client, admin_token, "provider=gcp") == ["b-de"]
    assert await _names(app_client, admin_token, "region=europe-west3") == ["b-de"]
    assert await _names(app_client, admin_token, "country=jp") == ["a-jp", "c-onprem"]
    assert await _names(app_client, admin_token, "state=Cordoned") == ["c-onprem"]
    selectors = {
        "env=prod": ["a-jp"],
        "env!=prod": ["b-de", "c-onprem"],
        "env in (prod,staging)": ["a-jp", "b-de"],
        "env notin (prod)": ["b-de", "c-onprem"],
        "env": ["a-jp", "b-de"],
        "!env": ["c-onprem"],
        "gpus>4": ["a-jp"],
        "gpus<4": ["b-de"],
        "env=prod,gpus>4": ["a-jp"],
    }
    for selector, expected in selectors.items():
        found = await _names(
            app_client, admin_token, str(httpx.QueryParams(labelSelector=selector))
        )
        assert found == expected, selector


async def test_pages_follow_the_cursor_without_gaps_or_repeats(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    names = [f"cluster-{index:02d}" for index in range(7)]
    for name in reversed(names):
        await _create(app_client, admin_token, name=name)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        response = await app_client.get("/v1/clusters", params=params, headers=auth(admin_token))
        assert response.status_code == 200
        body = response.json()
        seen += [item["name"] for item in body["items"]]
        pages += 1
        cursor = body["nextCursor"]
        if cursor is None:
            break

    assert seen == names
    assert pages == 3


async def test_forged_cursor_is_refused(app_client: httpx.AsyncClient, admin_token: str) -> None:
    response = await app_client.get(
        "/v1/clusters", params={"cursor": "not-a-cursor!"}, headers=auth(admin_token)
    )

    assert response.status_code == 422
    assert response.json()["field"] == "cursor"


async def test_cluster_shows_the_rates_in_effect_of_its_price_book(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await app_client.post(
        "/v1/price-books", json=iaas_price_book(cpu="0.05"), headers=auth(admin_token)
    )
    await app_client.post("/v1/price-books", json=onprem_price_book(), headers=auth(admin_token))
    iaas = await _create(app_client, admin_token, priceBook="aws-on-demand")
    onprem = await _create(
        app_client, admin_token, name="dc-tokyo-1", kind="onprem", priceBook="dc-tokyo-tco"
    )

    assert iaas["priceBook"] == "aws-on-demand"
    assert iaas["pricing"]["version"] == 1
    assert iaas["pricing"]["currency"] == "USD"
    assert iaas["pricing"]["rates"] == {
        "cpuPerVcpuHour": "0.05",
        "memoryPerGibHour": "0.0052",
        "gpuPerGpuHour": "2.48",
    }
    assert onprem["pricing"]["monthlyFixedCost"] == "38000"
    assert onprem["pricing"]["rates"] is None
    listed = (await app_client.get("/v1/clusters", headers=auth(admin_token))).json()["items"]
    assert [item["pricing"]["priceBook"] for item in listed] == ["aws-on-demand", "dc-tokyo-tco"]


async def test_price_book_of_the_other_kind_is_refused(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await app_client.post("/v1/price-books", json=onprem_price_book(), headers=auth(admin_token))
    response = await app_client.post(
        "/v1/clusters", json=cluster_payload(priceBook="dc-tokyo-tco"), headers=auth(admin_token)
    )

    assert response.status_code == 422
    assert response.json()["field"] == "priceBook"
