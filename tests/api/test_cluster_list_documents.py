"""The list renders cluster documents in Postgres; they must equal what a single read returns."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from tests.support.api import auth
from tests.support.factories import cluster_payload, iaas_price_book

CAPACITIES = [
    {"cpu": "1500m", "memory": "64Gi", "nvidia.com/gpu": 8, "pods": "110"},
    {"cpu": "2", "memory": "1", "ephemeral-storage": "10G", "storage": "1.5Ki"},
    {"cpu": "0", "memory": "0", "pods": "0"},
    {"cpu": "1m", "memory": "3Ei", "storage": "7E", "example.com/fpga": "1000000"},
    {"memory": "1000001", "ephemeral-storage": "123456789k", "storage": "2Pi"},
    {},
]


@pytest.mark.parametrize("capacity", CAPACITIES)
async def test_listed_document_equals_the_single_read(
    app_client: httpx.AsyncClient, admin_token: str, capacity: dict[str, str | int]
) -> None:
    response = await app_client.post(
        "/v1/clusters", json=cluster_payload(capacity=capacity), headers=auth(admin_token)
    )
    assert response.status_code == 201, response.text

    single = await app_client.get("/v1/clusters/aws-tokyo", headers=auth(admin_token))
    listed = await app_client.get("/v1/clusters", headers=auth(admin_token))

    assert listed.json()["items"] == [single.json()]


async def test_timestamps_without_microseconds_and_priced_clusters_list_as_they_read(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[tuple[object, ...]]
) -> None:
    book = await app_client.post(
        "/v1/price-books", json=iaas_price_book(), headers=auth(admin_token)
    )
    assert book.status_code == 201, book.text
    for name, price_book in (("priced", "aws-on-demand"), ("unpriced", None)):
        created = await app_client.post(
            "/v1/clusters",
            json=cluster_payload(name, priceBook=price_book),
            headers=auth(admin_token),
        )
        assert created.status_code == 201, created.text
    raw_db.execute(
        "UPDATE clusters SET created_at = '2026-03-01T09:30:00Z' WHERE name = 'unpriced'"
    )

    listed = await app_client.get("/v1/clusters", headers=auth(admin_token))
    singles = [
        (await app_client.get(f"/v1/clusters/{name}", headers=auth(admin_token))).json()
        for name in ("priced", "unpriced")
    ]

    assert listed.json()["items"] == singles
    assert singles[0]["pricing"] is not None
    assert singles[1]["createdAt"] == "2026-03-01T09:30:00Z"
