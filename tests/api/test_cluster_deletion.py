"""A cluster that workloads are placed on cannot be deleted out from under them."""

from __future__ import annotations

import httpx

from tests.support.api import auth
from tests.support.factories import cluster_payload
from tests.support.workload_factories import workload_payload


async def test_a_cluster_with_placed_workloads_is_kept_until_they_are_gone(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    headers = auth(admin_token)
    assert (
        await app_client.post("/v1/clusters", json=cluster_payload("c1"), headers=headers)
    ).status_code == 201
    created = await app_client.post("/v1/workloads", json=workload_payload(), headers=headers)
    assert created.status_code == 201, created.text
    workload = created.json()
    assert [p["cluster"] for p in workload["placements"]] == ["c1"]

    refused = await app_client.delete("/v1/clusters/c1", headers=headers)
    assert refused.status_code == 409
    problem = refused.json()
    assert f"{workload['namespace']}/{workload['name']}" in problem["detail"]
    assert (await app_client.get("/v1/clusters/c1", headers=headers)).status_code == 200
    read = await app_client.get(f"/v1/workloads/{workload['id']}", headers=headers)
    assert [p["cluster"] for p in read.json()["placements"]] == ["c1"]

    removed = await app_client.delete(f"/v1/workloads/{workload['id']}", headers=headers)
    assert removed.status_code == 204, removed.text
    assert (await app_client.delete("/v1/clusters/c1", headers=headers)).status_code == 204
