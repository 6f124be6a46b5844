"""A cluster without a price book is priced at zero; decisions and reads say the cost is unknown."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.api import auth
from tests.support.factories import cluster_payload, iaas_price_book
from tests.support.workload_factories import workload_payload

UNPRICED = "cluster bare-metal has no price book: cost unknown, treated as 0"


async def _post(client: httpx.AsyncClient, token: str, path: str, body: Any) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=auth(token))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_a_placement_on_a_cluster_without_price_book_says_its_cost_is_unknown(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await _post(app_client, admin_token, "/v1/clusters", cluster_payload("bare-metal"))

    workload = await _post(app_client, admin_token, "/v1/workloads", workload_payload())

    assert workload["placements"][0]["cluster"] == "bare-metal"
    assert workload["placements"][0]["priceBook"] is None
    assert workload["notes"] == [UNPRICED]
    read = await app_client.get(f"/v1/workloads/{workload['id']}", headers=auth(admin_token))
    assert read.json()["notes"] == [UNPRICED]
    decision = await app_client.get(
        f"/v1/workloads/{workload['id']}/decision", headers=auth(admin_token)
    )
    assert UNPRICED in decision.json()["notes"]
    dry_run = await app_client.post(
        "/v1/placements:dry-run", json=workload_payload("other"), headers=auth(admin_token)
    )
    assert UNPRICED in dry_run.json()["notes"]


async def test_a_placement_on_a_priced_cluster_names_its_book_and_has_no_note(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await _post(app_client, admin_token, "/v1/price-books", iaas_price_book("aws", cpu="0.04"))
    await _post(
        app_client, admin_token, "/v1/clusters", cluster_payload("aws-tokyo", priceBook="aws")
    )

    workload = await _post(app_client, admin_token, "/v1/workloads", workload_payload())

    assert workload["placements"][0]["priceBook"] == "aws"
    assert workload["notes"] == []
    decision = await app_client.get(
        f"/v1/workloads/{workload['id']}/decision", headers=auth(admin_token)
    )
    assert not any("price book" in note for note in decision.json()["notes"])


async def test_an_unpriced_alternative_is_named_in_the_decision(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await _post(app_client, admin_token, "/v1/price-books", iaas_price_book("aws", cpu="0.04"))
    await _post(
        app_client, admin_token, "/v1/clusters", cluster_payload("aws-tokyo", priceBook="aws")
    )
    await _post(app_client, admin_token, "/v1/clusters", cluster_payload("bare-metal"))

    workload = await _post(app_client, admin_token, "/v1/workloads", workload_payload())
    decision = (
        await app_client.get(f"/v1/workloads/{workload['id']}/decision", headers=auth(admin_token))
    ).json()

    chosen = set(decision["assignment"]) | set(
        (decision["alternative"] or {}).get("assignment", {})
    )
    assert chosen == {"aws-tokyo", "bare-metal"}
    assert UNPRICED in decision["notes"]
