"""Price books: dated immutable versions, the version in effect, and what clusters use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.api import auth
from tests.support.factories import cluster_payload, iaas_price_book, onprem_price_book


async def test_new_version_takes_effect_at_its_date(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await app_client.post(
        "/v1/price-books", json=iaas_price_book(cpu="0.04"), headers=auth(admin_token)
    )
    await app_client.post(
        "/v1/clusters", json=cluster_payload(priceBook="aws-on-demand"), headers=auth(admin_token)
    )
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    added = await app_client.post(
        "/v1/price-books/aws-on-demand/versions",
        json={
            "effectiveFrom": later,
            "rates": {"cpuPerVcpuHour": "0.03", "memoryPerGibHour": "0.005"},
            "note": "negotiated discount",
        },
        headers=auth(admin_token),
    )

    assert added.status_code == 201, added.text
    book = added.json()
    assert [version["version"] for version in book["versions"]] == [1, 2]
    assert book["current"]["version"] == 1
    cluster = (await app_client.get("/v1/clusters/aws-tokyo", headers=auth(admin_token))).json()
    assert cluster["pricing"]["version"] == 1
    assert cluster["pricing"]["rates"]["cpuPerVcpuHour"] == "0.04"


@pytest.mark.parametrize(
    ("version", "field"),
    [
        (
            {
                "effectiveFrom": "2025-06-01T00:00:00Z",
                "rates": {"cpuPerVcpuHour": "1", "memoryPerGibHour": "1"},
            },
            "version.effectiveFrom",
        ),
        ({"effectiveFrom": "2999-01-01T00:00:00Z", "monthlyFixedCost": "5"}, "version.rates"),
        (
            {
                "effectiveFrom": "2999-01-01T00:00:00",
                "rates": {"cpuPerVcpuHour": "1", "memoryPerGibHour": "1"},
            },
            "effectiveFrom",
        ),
        (
            {
                "effectiveFrom": "2999-01-01T00:00:00Z",
                "rates": {"cpuPerVcpuHour": "-1", "memoryPerGibHour": "1"},
            },
            "rates.cpuPerVcpuHour",
        ),
    ],
)
async def test_invalid_versions_are_refused(
    app_client: httpx.AsyncClient, admin_token: str, version: dict[str, object], field: str
) -> None:
    await app_client.post("/v1/price-books", json=iaas_price_book(), headers=auth(admin_token))

    response = await app_client.post(
        "/v1/price-books/aws-on-demand/versions", json=version, headers=auth(admin_token)
    )

    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


async def test_kind_and_currency_are_checked(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    onprem_with_rates = onprem_price_book()
    onprem_with_rates["version"]["rates"] = {"cpuPerVcpuHour": "1", "memoryPerGibHour": "1"}
    bad_currency = iaas_price_book()
    bad_currency["currency"] = "XYZ"

    rates = await app_client.post(
        "/v1/price-books", json=onprem_with_rates, headers=auth(admin_token)
    )
    currency = await app_client.post(
        "/v1/price-books", json=bad_currency, headers=auth(admin_token)
    )

    assert rates.status_code == 422
    assert rates.json()["field"] == "version.rates"
    assert currency.status_code == 422
    assert currency.json()["field"] == "currency"


async def test_a_price_book_in_use_cannot_be_deleted(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await app_client.post("/v1/price-books", json=iaas_price_book(), headers=auth(admin_token))
    await app_client.post(
        "/v1/clusters", json=cluster_payload(priceBook="aws-on-demand"), headers=auth(admin_token)
    )

    in_use = await app_client.delete("/v1/price-books/aws-on-demand", headers=auth(admin_token))
    await app_client.patch(
        "/v1/clusters/aws-tokyo", json={"priceBook": None}, headers=auth(admin_token)
    )
    unused = await app_client.delete("/v1/price-books/aws-on-demand", headers=auth(admin_token))

    assert in_use.status_code == 409
    assert unused.status_code == 204
    listed = await app_client.get("/v1/price-books", headers=auth(admin_token))
    assert listed.json()["items"] == []
