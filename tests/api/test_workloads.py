"""Workloads through the API: submit → decided and stored, validation, residency, updates,
rescheduling, deletion, lists, history and the audit trail."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI

from app.auth.principal import Principal
from app.db.base import utcnow
from app.db.session import Database
from app.workloads.service import WorkloadService
from tests.support.api import auth
from tests.support.factories import cluster_payload, iaas_price_book, kubeconfig_text
from tests.support.workload_factories import deployment, workload_payload


async def _post(client: httpx.AsyncClient, token: str, path: str, body: Any) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=auth(token))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _cluster(
    client: httpx.AsyncClient, token: str, name: str, *, book: str | None = None, **fields: Any
) -> None:
    if book is not None:
        fields["priceBook"] = book
    await _post(client, token, "/v1/clusters", cluster_payload(name, **fields))


async def _book(client: httpx.AsyncClient, token: str, name: str, cpu: str) -> None:
    await _post(client, token, "/v1/price-books", iaas_price_book(name, cpu=cpu, memory="0.005"))


async def _submit(client: httpx.AsyncClient, token: str, **overrides: Any) -> dict[str, Any]:
    return await _post(client, token, "/v1/workloads", workload_payload(**overrides))


def _deployment_without_requests() -> dict[str, Any]:
    manifest = deployment()
    manifest["spec"]["template"]["spec"]["containers"][0].pop("resources")
    return manifest


async def _reschedule(app: FastAPI) -> int:
    database: Database = app.state.database
    async with database.transaction() as session:
        service = WorkloadService(session, app.state.scheduler, Principal.system("tests"))
        return await service.reschedule_unschedulable(utcnow())


async def test_submitted_workload_is_placed_with_a_stored_explained_decision_and_history(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await _book(app_client, admin_token, "aws", cpu="0.04")
    await _cluster(app_client, admin_token, "aws-tokyo", book="aws")

    response = await app_client.post(
        "/v1/workloads", json=workload_payload(), headers=auth(admin_token)
    )

    assert response.status_code == 201, response.text
    workload = response.json()
    assert response.headers["location"] == f"/v1/workloads/{workload['id']}"
    assert response.headers["etag"] == workload["etag"]
    assert workload["status"] == "Placed"
    assert workload["placements"] == [
        {"cluster": "aws-tokyo", "replicas": 2, "readyReplicas": None, "priceBook": "aws"}
    ]
    assert workload["requests"]["cpu"] == {"amount": 500, "quantity": "500m"}
    assert workload["revision"] == 1
    read = await app_client.get(f"/v1/workloads/{workload['id']}", headers=auth(admin_token))
    assert read.json() == workload

    decision = (
        await app_client.get(f"/v1/workloads/{workload['id']}/decision", headers=auth(admin_token))
    ).json()
    assert decision["outcome"] == "placed"
    assert decision["workloadId"] == workload["id"]
    assert decision["assignment"] == {"aws-tokyo": 2}
    assert decision["priceBookVersions"] == {"aws": 1}
    assert "PlacementPolicy/personal-data-stays-in-japan" in decision["policyVersions"]
    # 2 replicas x (0.5 vCPU x 0.04 + 1 GiB x 0.005) per hour, in micro-units
    assert decision["cost"]["hourly"] == 2 * (20_000 + 5_000)
    assert decision["cost"]["priceBooks"] == ["aws@1"]
    assert decision["inputs"]["snapshot"]["clusters"][0]["name"] == "aws-tokyo"
    assert decision["verdicts"][0]["scores"]

    events = (
        await app_client.get(f"/v1/workloads/{workload['id']}/events", headers=auth(admin_token))
    ).json()
    assert [event["kind"] for event in events["items"]] == ["submitted", "decided"]
    assert events["items"][1]["message"] == decision["summary"]


@pytest.mark.parametrize(
    ("manifests", "field"),
    [
        (
            [deployment() | {"apiVersion": "apps/v1beta1"}],
            "manifests[0].apiVersion",
        ),
        (
            [
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf"}},
                _deployment_without_requests(),
            ],
            "manifests[1].spec.template.spec.containers[0].resources.requests",
        ),
        ([deployment(namespace="other")], "manifests[0].metadata.namespace"),
        ([{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}}], "manifests"),
        ([deployment(), deployment("api")], "manifests[1].kind"),
    ],
    ids=["api-version", "no-requests", "namespace", "no-primary", "two-primaries"],
)
async def test_bad_manifests_are_refused_naming_the_manifest_and_field(
    app_client: httpx.AsyncClient,
    admin_token: str,
    raw_db: psycopg.Connection[Any],
    manifests: list[dict[str, Any]],
    field: str,
) -> None:
    response = await app_client.post(
        "/v1/workloads", json=workload_payload(manifests=manifests), headers=auth(admin_token)
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field
    assert raw_db.execute("SELECT count(*) FROM workloads").fetchone() == (0,)


@pytest.mark.parametrize(
    ("placement", "field"),
    [
        ({"strategy": "single", "copies": 2}, "placement.copies"),
        ({"strategy": "spread", "divideBy": "weights"}, "placement.divideBy"),
        ({"strategy": "divided", "divideBy": "weights"}, "placement.weights"),
        ({"strategy": "everywhere"}, "placement.strategy"),
        ({"maxHourlyCost": "-1"}, "placement.maxHourlyCost"),
        ({"maxHourlyCost": "0.0000001"}, "placement.maxHourlyCost"),
        (
            {"clusterSelector": {"matchExpressions": [{"key": "env", "operator": "Near"}]}},
            "placement.clusterSelector.matchExpressions[0].operator",
        ),
        (
            {"tolerations": [{"key": "gpu", "operator": "Exists", "value": "yes"}]},
            "placement.tolerations[0].value",
        ),
        (
            {"antiAffinity": [{"labelSelector": {"matchLabels": {"app": "web"}}, "weight": 0}]},
            "placement.antiAffinity[0].weight",
        ),
        (
            {"weights": {"Not_A_Name": 1}, "strategy": "divided", "divideBy": "weights"},
            "placement.weights.Not_A_Name",
        ),
        ({"colour": "blue"}, "placement.colour"),
    ],
)
async def test_bad_placement_intent_is_refused_naming_the_field(
    app_client: httpx.AsyncClient,
    admin_token: str,
    placement: dict[str, Any],
    field: str,
) -> None:
    response = await app_client.post(
        "/v1/workloads", json=workload_payload(placement=placement), headers=auth(admin_token)
    )

    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


async def test_disruption_cannot_keep_more_replicas_than_the_workload_has(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    response = await app_client.post(
        "/v1/workloads",
        json=workload_payload(disruption={"minAvailable": 3, "stateful": True}),
        headers=auth(admin_token),
    )

    assert response.status_code == 422
    assert response.json()["field"] == "disruption.minAvailable"


async def test_personal_data_stays_in_japan_even_when_another_cluster_is_cheaper(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await _book(app_client, admin_token, "expensive", cpu="0.20")
    await _book(app_client, admin_token, "cheap", cpu="0.01")
    await _cluster(app_client, admin_token, "aws-tokyo", book="expensive")
    await _cluster(
        app_client,
        admin_token,
        "aws-virginia",
        book="cheap",
        country="US",
        region="us-east-1",
        zones=["us-east-1a"],
    )

    ordinary = await _submit(app_client, admin_token, name="catalog")
    personal = await _submit(
        app_client,
        admin_token,
        name="accounts",
        labels={"data-class": "personal", "customer-region": "jp"},
    )

    assert [p["cluster"] for p in ordinary["placements"]] == ["aws-virginia"]
    assert [p["cluster"] for p in personal["placements"]] == ["aws-tokyo"]
    decision = (
        await app_client.get(f"/v1/workloads/{personal['id']}/decision", headers=auth(admin_token))
    ).json()
    rejected = {v["cluster"]: v["rejection"] for v in decision["verdicts"] if v["rejection"]}
    assert "personal data must stay in Japan" in rejected["aws-virginia"]["message"]
    assert (
        decision["alternative"] is None
        or "aws-virginia" not in decision["alternative"]["assignment"]
    )


async def test_unplaceable_workload_is_unschedulable_with_reasons_until_capacity_appears(
    app: FastAPI, app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await _cluster(app_client, admin_token, "small", capacity={"cpu": "2", "memory": "8Gi"})
    big = await _submit(
        app_client, admin_token, name="big", manifests=[deployment("big", replicas=1, cpu="4")]
    )

    assert big["status"] == "Unschedulable"
    assert big["placements"] == []
    assert big["statusMessage"] == "0/1 clusters fit: 1 lack 4 CPU"
    decision = (
        await app_client.get(f"/v1/workloads/{big['id']}/decision", headers=auth(admin_token))
    ).json()
    assert decision["outcome"] == "unschedulable"
    assert decision["remedies"]
    assert await _reschedule(app) == 0

    await _cluster(app_client, admin_token, "large", capacity={"cpu": "16", "memory": "64Gi"})
    assert await _reschedule(app) == 1

    placed = (await app_client.get(f"/v1/workloads/{big['id']}", headers=auth(admin_token))).json()
    assert placed["status"] == "Placed"
    assert placed["placements"] == [
        {"cluster": "large", "replicas": 1, "readyReplicas": None, "priceBook": None}
    ]
    events = (
        await app_client.get(f"/v1/workloads/{big['id']}/events", headers=auth(admin_token))
    ).json()["items"]
    assert [e["kind"] for e in events] == ["submitted", "unschedulable", "retried"]


async def test_update_is_a_new_revision_re_decided_when_replicas_change(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await _cluster(app_client, admin_token, "c1", capacity={"cpu": "4", "memory": "64Gi"})
    await _cluster(app_client, admin_token, "c2", capacity={"cpu": "64", "memory": "64Gi"})
    workload = await _submit(app_client, admin_token, manifests=[deployment(replicas=2, cpu="1")])
    path = f"/v1/workloads/{workload['id']}"

    grown = await app_client.patch(
        path,
        json={"manifests": [deployment(replicas=10, cpu="1")]},
        headers={**auth(admin_token), "If-Match": workload["etag"]},
    )

    assert grown.status_code == 200, grown.text
    updated = grown.json()
    assert updated["revision"] == 2
    assert updated["replicas"] == 10
    assert updated["placements"] == [
        {"cluster": "c2", "replicas": 10, "readyReplicas": None, "priceBook": None}
    ]
    assert updated["desiredGeneration"] > workload["desiredGeneration"]
    assert raw_db.execute("SELECT count(*) FROM decisions").fetchone() == (2,)
    decision = (await app_client.get(f"{path}/decision", headers=auth(admin_token))).json()
    assert decision["revision"] == 2

    stale = await app_client.patch(
        path, json={"team": "other"}, headers={**auth(admin_token), "If-Match": workload["etag"]}
    )
    assert stale.status_code == 412

    relabelled = deployment(replicas=10, cpu="1")
    relabelled["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    replaced = await app_client.put(
        path,
        json={"team": "shop", "labels": {"tier": "web"}, "manifests": [relabelled]},
        headers=auth(admin_token),
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["revision"] == 3
    assert replaced.json()["desiredGeneration"] == updated["desiredGeneration"] + 1
    assert raw_db.execute("SELECT count(*) FROM decisions").fetchone() == (2,)

    unchanged = await app_client.patch(path, json={"team": "shop"}, headers=auth(admin_token))
    assert unchanged.json()["revision"] == 3


async def test_an_update_that_cannot_be_placed_keeps_the_previous_placement(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await _cluster(app_client, admin_token, "c1", capacity={"cpu": "4", "memory": "64Gi"})
    workload = await _submit(app_client, admin_token, manifests=[deployment(cpu="1")])

    response = await app_client.patch(
        f"/v1/workloads/{workload['id']}",
        json={"manifests": [deployment(replicas=40, cpu="1")]},
        headers=auth(admin_token),
    )

    assert response.status_code == 200
    assert response.json()["status"] == "Unschedulable"
    assert response.json()["placements"] == workload["placements"]


async def test_delete_of_a_workload_never_deployed_removes_it_at_once(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await _cluster(app_client, admin_token, "plan-only")
    workload = await _submit(app_client, admin_token)

    response = await app_client.delete(f"/v1/workloads/{workload['id']}", headers=auth(admin_token))

    assert response.status_code == 204
    gone = await app_client.get(f"/v1/workloads/{workload['id']}", headers=auth(admin_token))
    assert gone.status_code == 404
    assert raw_db.execute("SELECT count(*) FROM workload_placements").fetchone() == (0,)
    assert raw_db.execute("SELECT count(*) FROM decisions").fetchone() == (0,)


def _reconciler_reports(
    raw_db: psycopg.Connection[Any], workload_id: str, phase: str, ready: int
) -> None:
    raw_db.execute(
        "INSERT INTO workload_cluster_status (workload_id, cluster_id, applied_generation,"
        " phase, desired_replicas, ready_replicas, conditions, updated_at)"
        " SELECT p.workload_id, p.cluster_id, w.desired_generation, %s, p.replicas, %s, '[]',"
        " now() FROM workload_placements p JOIN workloads w ON w.id = p.workload_id"
        " WHERE p.workload_id = %s",
        (phase, ready, workload_id),
    )


async def test_read_shows_ready_replicas_the_reconciler_reported(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await _cluster(app_client, admin_token, "live", credentials={"kubeconfig": kubeconfig_text()})
    workload = await _submit(app_client, admin_token)
    _reconciler_reports(raw_db, workload["id"], "Progressing", ready=1)

    read = await app_client.get(f"/v1/workloads/{workload['id']}", headers=auth(admin_token))

    assert read.json()["placements"] == [
        {"cluster": "live", "replicas": 2, "readyReplicas": 1, "priceBook": None}
    ]


async def test_delete_of_a_deployed_workload_waits_for_the_reconciler(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await _cluster(app_client, admin_token, "live", credentials={"kubeconfig": kubeconfig_text()})
    workload = await _submit(app_client, admin_token)
    _reconciler_reports(raw_db, workload["id"], "Ready", ready=2)
    path = f"/v1/workloads/{workload['id']}"

    response = await app_client.delete(path, headers=auth(admin_token))
    again = await app_client.delete(path, headers=auth(admin_token))

    assert response.status_code == again.status_code == 202
    marked = response.json()
    assert marked["status"] == "Deleting"
    assert marked["deletionRequested"] is True
    assert marked["desiredGeneration"] == workload["desiredGeneration"] + 1
    assert (await app_client.get(path, headers=auth(admin_token))).json() == marked
    refused = await app_client.patch(path, json={"team": "x"}, headers=auth(admin_token))
    assert refused.status_code == 409


async def test_capacity_used_by_pods_placer_does_not_manage_is_not_offered(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await _cluster(app_client, admin_token, "busy", capacity={"cpu": "4", "memory": "64Gi"})
    raw_db.execute("UPDATE clusters SET allocated_external = '{\"cpu\": 3500}'")

    workload = await _submit(app_client, admin_token, manifests=[deployment(cpu="1")])

    assert workload["status"] == "Unschedulable"
    assert workload["statusMessage"].startswith("0/1 clusters fit: 1 lack")


async def test_list_filters_by_namespace_team_status_and_label_selector_in_pages(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await _cluster(app_client, admin_token, "c1", capacity={"cpu": "2", "memory": "64Gi"})
    await _submit(app_client, admin_token, name="a", labels={"tier": "web", "env": "prod"})
    await _submit(app_client, admin_token, name="b", labels={"tier": "api"}, team="payments")
    await _submit(
        app_client, admin_token, name="c", manifests=[deployment("c", cpu="8")], namespace="ops"
    )

    async def names(query: str) -> list[str]:
        response = await app_client.get(f"/v1/workloads?{query}", headers=auth(admin_token))
        assert response.status_code == 200, response.text
        return [w["name"] for w in response.json()["items"]]

    assert await names("") == ["c", "a", "b"]
    assert await names("namespace=shop") == ["a", "b"]
    assert await names("team=payments") == ["b"]
    assert await names("status=Unschedulable") == ["c"]
    assert await names("labelSelector=tier%20in%20(web,api),!env") == ["c", "b"]
    assert await names("labelSelector=env%3Dprod") == ["a"]
    first = (await app_client.get("/v1/workloads?limit=2", headers=auth(admin_token))).json()
    second = (
        await app_client.get(
            f"/v1/workloads?limit=2&cursor={first['nextCursor']}", headers=auth(admin_token)
        )
    ).json()
    assert [w["name"] for w in first["items"] + second["items"]] == ["c", "a", "b"]
    assert second["nextCursor"] is None
    bad = await app_client.get("/v1/workloads?labelSelector=tier%20in", headers=auth(admin_token))
    assert bad.status_code == 422
    assert bad.json()["field"] == "labelSelector"


async def test_secret_values_are_never_shown_or_audited(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await _cluster(app_client, admin_token, "c1")
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db"},
        "stringData": {"password": "hunter2", "url": "postgres://u:hunter2@db/x"},
    }
    workload = await _submit(app_client, admin_token, manifests=[deployment(), secret])

    shown = workload["manifests"][1]["stringData"]
    assert set(shown) == {"password", "url"}
    assert "hunter2" not in str(workload)
    audited = raw_db.execute(
        "SELECT after::text FROM audit_events WHERE action = %s", ("workload.create",)
    )
    assert "hunter2" not in str(audited.fetchall())


async def test_every_change_is_audited(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await _cluster(app_client, admin_token, "c1")
    workload = await _submit(app_client, admin_token)
    path = f"/v1/workloads/{workload['id']}"
    await app_client.patch(path, json={"team": "checkout"}, headers=auth(admin_token))
    await app_client.delete(path, headers=auth(admin_token))

    rows = [
        (action, resource, before is None, after is None)
        for action, resource, before, after in raw_db.execute(
            "SELECT action, resource_id, before, after FROM audit_events"
            " WHERE resource_type = 'workload' ORDER BY id"
        ).fetchall()
    ]
    assert rows == [
        ("workload.create", workload["id"], True, False),
        ("workload.update", workload["id"], False, False),
        ("workload.delete", workload["id"], False, True),
    ]


async def test_create_with_the_same_idempotency_key_stores_one_workload(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await _cluster(app_client, admin_token, "c1")
    headers = {**auth(admin_token), "Idempotency-Key": "submit-1"}

    first = await app_client.post("/v1/workloads", json=workload_payload(), headers=headers)
    second = await app_client.post("/v1/workloads", json=workload_payload(), headers=headers)
    other = await app_client.post("/v1/workloads", json=workload_payload("x"), headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422
    assert raw_db.execute("SELECT count(*) FROM workloads").fetchone() == (1,)
    assert raw_db.execute("SELECT count(*) FROM decisions").fetchone() == (1,)


async def test_same_name_in_a_namespace_is_a_conflict(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await _submit(app_client, admin_token)

    again = await app_client.post(
        "/v1/workloads", json=workload_payload(), headers=auth(admin_token)
    )

    assert again.status_code == 409
    assert again.json()["field"] == "name"


async def test_events_are_paged_oldest_first(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await _cluster(app_client, admin_token, "c1")
    workload = await _submit(app_client, admin_token)
    path = f"/v1/workloads/{workload['id']}"
    for team in ("t1", "t2"):
        await app_client.patch(path, json={"team": team}, headers=auth(admin_token))

    first = (await app_client.get(f"{path}/events?limit=3", headers=auth(admin_token))).json()
    rest = (
        await app_client.get(
            f"{path}/events?limit=3&cursor={first['nextCursor']}", headers=auth(admin_token)
        )
    ).json()

    kinds = [e["kind"] for e in first["items"] + rest["items"]]
    assert kinds == ["submitted", "decided", "updated", "decided", "updated", "decided"]
    assert rest["nextCursor"] is None
