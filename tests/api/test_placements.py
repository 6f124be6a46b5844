"""Placement questions: dry-runs store nothing; batches place pending workloads jointly and
report how far they are from the proven bound; policies load at start or the service refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from app.placements.scheduler import PolicyLoadError
from app.scheduling.decision import Decision
from app.scheduling.replay import replay
from tests.support.api import auth
from tests.support.factories import cluster_payload, iaas_price_book
from tests.support.workload_factories import deployment, workload_payload

TABLES = ("workloads", "workload_placements", "decisions", "workload_events", "audit_events")


def _counts(raw_db: psycopg.Connection[Any]) -> dict[str, Any]:
    return {
        table: raw_db.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
        for table in TABLES
    }


async def _post(client: httpx.AsyncClient, token: str, path: str, body: Any) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=auth(token))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_dry_run_answers_like_a_submission_and_stores_nothing(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await _post(app_client, admin_token, "/v1/price-books", iaas_price_book("aws"))
    await _post(app_client, admin_token, "/v1/clusters", cluster_payload("c1", priceBook="aws"))
    before = _counts(raw_db)

    response = await app_client.post(
        "/v1/placements:dry-run", json=workload_payload(), headers=auth(admin_token)
    )

    assert response.status_code == 200, response.text
    assert _counts(raw_db) == before
    answer = response.json()
    assert answer["id"] is None
    assert answer["outcome"] == "placed"
    assert answer["assignment"] == {"c1": 2}
    assert answer["priceBookVersions"] == {"aws": 1}
    submitted = await _post(app_client, admin_token, "/v1/workloads", workload_payload())
    stored = (
        await app_client.get(f"/v1/workloads/{submitted['id']}/decision", headers=auth(admin_token))
    ).json()
    for field in ("outcome", "summary", "assignment", "cost", "policyVersions", "remedies"):
        assert stored[field] == answer[field], field


async def test_dry_run_refuses_bad_manifests_naming_the_field(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    manifests = [deployment() | {"kind": "DaemonSet"}]

    response = await app_client.post(
        "/v1/placements:dry-run",
        json=workload_payload(manifests=manifests),
        headers=auth(admin_token),
    )

    assert response.status_code == 422
    assert response.json()["field"] == "manifests[0].kind"


def test_placement_routes_with_a_colon_are_in_the_openapi_document(app: FastAPI) -> None:
    paths = app.openapi()["paths"]

    assert "post" in paths["/v1/placements:dry-run"]
    assert "post" in paths["/v1/placements:batch"]


async def test_batch_places_pending_workloads_jointly_and_reports_the_gap(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await _post(app_client, admin_token, "/v1/price-books", iaas_price_book("cheap", cpu="0.01"))
    await _post(app_client, admin_token, "/v1/price-books", iaas_price_book("dear", cpu="0.10"))
    capacity = {"cpu": "4", "memory": "64Gi"}
    for name, book in (("cheap-1", "cheap"), ("dear-1", "dear")):
        await _post(
            app_client,
            admin_token,
            "/v1/clusters",
            cluster_payload(name, priceBook=book, capacity=capacity),
        )
    sizes = {"big": "3", "small": "1", "huge": "16"}
    pending = {}
    for name, cpu in sizes.items():
        body = workload_payload(name, manifests=[deployment(name, replicas=1, cpu=cpu)])
        pending[name] = await _post(app_client, admin_token, "/v1/workloads?defer=true", body)
    assert {w["status"] for w in pending.values()} == {"Pending"}
    assert raw_db.execute("SELECT count(*) FROM decisions").fetchone() == (0,)

    response = await app_client.post("/v1/placements:batch", json={}, headers=auth(admin_token))

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["status"] in ("infeasible", "optimal", "feasible")
    assert report["gap"] is not None
    assert report["cost"] >= report["lowerBound"] - 1
    assert set(report["greedy"]) == {"cost", "unplaced"}
    placed = {p["workload"]: p["assignment"] for p in report["placed"]}
    # Both fit in the cheap cluster together (3 + 1 of 4 CPUs): the joint answer uses it alone.
    assert placed == {"shop/big": {"cheap-1": 1}, "shop/small": {"cheap-1": 1}}
    [unplaced] = report["unplaced"]
    assert unplaced["workload"] == "shop/huge"
    assert unplaced["reasons"]
    huge = (
        await app_client.get(f"/v1/workloads/{pending['huge']['id']}", headers=auth(admin_token))
    ).json()
    assert huge["status"] == "Unschedulable"
    big = (
        await app_client.get(
            f"/v1/workloads/{pending['big']['id']}/decision", headers=auth(admin_token)
        )
    ).json()
    assert big["method"] == "optimizer"
    assert big["outcome"] == "placed"
    assert big["batch"]["gap"] == report["gap"]
    assert big["id"] in {p["decisionId"] for p in report["placed"]}
    audited = "SELECT count(*) FROM audit_events WHERE action = 'workload.batch-place'"
    assert raw_db.execute(audited).fetchone() == (3,)


async def test_batch_refuses_workloads_already_placed_naming_the_index(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await _post(app_client, admin_token, "/v1/clusters", cluster_payload("c1"))
    placed = await _post(app_client, admin_token, "/v1/workloads", workload_payload())

    response = await app_client.post(
        "/v1/placements:batch",
        json={"workloadIds": [placed["id"]]},
        headers=auth(admin_token),
    )
    missing = await app_client.post(
        "/v1/placements:batch",
        json={"workloadIds": ["00000000-0000-0000-0000-000000000000"]},
        headers=auth(admin_token),
    )

    assert response.status_code == 409
    assert response.json()["field"] == "workloadIds[0]"
    assert missing.status_code == 404


def test_an_invalid_policy_file_stops_the_service_from_starting(
    settings: Settings, tmp_path: Path
) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "broken.yaml").write_text(
        "apiVersion: placer/v1\nkind: PlacementPolicy\nmetadata: {name: broken}\n"
        "spec:\n  rules:\n    - require: 'cluster.country =='\n"
    )

    with pytest.raises(PolicyLoadError, match=r"broken\.yaml"):
        create_app(settings.model_copy(update={"policies_dir": policies}))
    with pytest.raises(PolicyLoadError, match="does not exist"):
        create_app(settings.model_copy(update={"policies_dir": tmp_path / "absent"}))


async def test_a_stored_decision_is_the_cores_own_json_form_and_replays(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await _post(app_client, admin_token, "/v1/price-books", iaas_price_book("aws"))
    await _post(app_client, admin_token, "/v1/clusters", cluster_payload("c1", priceBook="aws"))
    await _post(app_client, admin_token, "/v1/workloads", workload_payload())

    row = raw_db.execute("SELECT decision FROM decisions").fetchone()
    assert row is not None
    stored = row[0]

    decision = Decision.from_dict(stored)
    assert decision.to_dict() == stored
    assert replay(decision).outcome() == decision.outcome()
