"""A Kubernetes object belongs to one workload: a second workload defining the same
(namespace, kind, name) is refused with 409 naming the manifest and the owner, so it can never
be applied over the first one's object in a shared cluster. Also the migration that enters
the objects of workloads stored before."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import psycopg
from alembic import command
from psycopg.types.json import Jsonb

from app.db.migrate import alembic_config, upgrade_to_head
from tests.support.api import auth
from tests.support.db import migrations_dir
from tests.support.factories import cluster_payload, kubeconfig_text
from tests.support.workload_factories import deployment, workload_payload


def _service(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80}]},
    }


async def _cluster(client: httpx.AsyncClient, token: str, **fields: Any) -> None:
    response = await client.post(
        "/v1/clusters", json=cluster_payload("c1", **fields), headers=auth(token)
    )
    assert response.status_code == 201, response.text


async def _submit(
    client: httpx.AsyncClient, token: str, name: str, **fields: Any
) -> httpx.Response:
    return await client.post(
        "/v1/workloads", json=workload_payload(name, **fields), headers=auth(token)
    )


def _stored(raw_db: psycopg.Connection[Any]) -> list[tuple[str, str, str, str]]:
    return [
        (workload, namespace, kind, name)
        for workload, namespace, kind, name in raw_db.execute(
            "SELECT w.name, o.namespace, o.kind, o.name FROM workload_objects o"
            " JOIN workloads w ON w.id = o.workload_id ORDER BY 1, 2, 3, 4"
        )
    ]


async def test_a_second_workload_defining_the_same_object_is_refused_naming_field_and_owner(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await _cluster(app_client, admin_token)
    first = await _submit(app_client, admin_token, "checkout-a", manifests=[deployment("checkout")])
    assert first.status_code == 201, first.text
    owner = first.json()

    second = await _submit(
        app_client,
        admin_token,
        "checkout-b",
        manifests=[_service("front"), deployment("checkout", replicas=38)],
    )

    assert second.status_code == 409, second.text
    problem = second.json()
    assert problem["field"] == "manifests[1].metadata.name"
    assert "Deployment shop/checkout" in problem["detail"]
    assert "'checkout-a'" in problem["detail"]
    assert problem["owner"] == {
        "id": owner["id"],
        "namespace": "shop",
        "name": "checkout-a",
        "deleting": False,
    }
    assert raw_db.execute("SELECT name FROM workloads").fetchall() == [("checkout-a",)]
    assert _stored(raw_db) == [("checkout-a", "shop", "Deployment", "checkout")]


async def test_the_same_name_of_another_kind_or_in_another_namespace_is_another_object(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await _cluster(app_client, admin_token)
    first = await _submit(app_client, admin_token, "checkout-a", manifests=[deployment("checkout")])
    elsewhere = await _submit(
        app_client,
        admin_token,
        "checkout-b",
        namespace="shop-staging",
        manifests=[deployment("checkout")],
    )
    service = await _submit(
        app_client,
        admin_token,
        "checkout-c",
        manifests=[deployment("checkout-c"), _service("checkout")],
    )

    assert [r.status_code for r in (first, elsewhere, service)] == [201, 201, 201]
    assert _stored(raw_db) == [
        ("checkout-a", "shop", "Deployment", "checkout"),
        ("checkout-b", "shop-staging", "Deployment", "checkout"),
        ("checkout-c", "shop", "Deployment", "checkout-c"),
        ("checkout-c", "shop", "Service", "checkout"),
    ]


async def test_of_two_concurrent_submissions_of_one_object_exactly_one_wins(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await _cluster(app_client, admin_token)

    responses = await asyncio.gather(
        *(
            _submit(app_client, admin_token, f"checkout-{n}", manifests=[deployment("checkout")])
            for n in range(4)
        )
    )

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    (winner,) = [r.json()["name"] for r in responses if r.status_code == 201]
    assert raw_db.execute("SELECT name FROM workloads").fetchall() == [(winner,)]
    assert _stored(raw_db) == [(winner, "shop", "Deployment", "checkout")]


async def test_an_update_that_renames_an_object_releases_the_old_name(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await _cluster(app_client, admin_token)
    first = (
        await _submit(app_client, admin_token, "checkout-a", manifests=[deployment("checkout")])
    ).json()

    renamed = await app_client.patch(
        f"/v1/workloads/{first['id']}",
        json={"manifests": [deployment("checkout-v2")]},
        headers=auth(admin_token),
    )
    reused = await _submit(
        app_client, admin_token, "checkout-b", manifests=[deployment("checkout")]
    )

    assert renamed.status_code == 200, renamed.text
    assert reused.status_code == 201, reused.text
    assert _stored(raw_db) == [
        ("checkout-a", "shop", "Deployment", "checkout-v2"),
        ("checkout-b", "shop", "Deployment", "checkout"),
    ]


async def test_an_update_onto_an_object_another_workload_owns_is_refused_and_changes_nothing(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await _cluster(app_client, admin_token)
    await _submit(
        app_client,
        admin_token,
        "checkout-a",
        manifests=[deployment("checkout"), _service("checkout")],
    )
    other = (
        await _submit(app_client, admin_token, "checkout-b", manifests=[deployment("other")])
    ).json()
    path = f"/v1/workloads/{other['id']}"

    response = await app_client.patch(
        path,
        json={"manifests": [deployment("other-v2"), _service("web"), _service("checkout")]},
        headers=auth(admin_token),
    )

    assert response.status_code == 409, response.text
    assert response.json()["field"] == "manifests[2].metadata.name"
    assert "Service shop/checkout" in response.json()["detail"]
    assert (await app_client.get(path, headers=auth(admin_token))).json() == other
    assert _stored(raw_db) == [
        ("checkout-a", "shop", "Deployment", "checkout"),
        ("checkout-a", "shop", "Service", "checkout"),
        ("checkout-b", "shop", "Deployment", "other"),
    ]


async def test_a_workload_being_deleted_holds_its_objects_until_it_is_gone(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    await _cluster(app_client, admin_token, credentials={"kubeconfig": kubeconfig_text()})
    first = (
        await _submit(app_client, admin_token, "checkout-a", manifests=[deployment("checkout")])
    ).json()
    # The reconciler has deployed it, so deletion waits for the objects to leave the cluster.
    raw_db.execute(
        "INSERT INTO workload_cluster_status (workload_id, cluster_id, applied_generation,"
        " phase, desired_replicas, ready_replicas, conditions, updated_at)"
        " SELECT workload_id, cluster_id, 1, 'Ready', replicas, replicas, '[]', now()"
        " FROM workload_placements WHERE workload_id = %s",
        (first["id"],),
    )
    deleting = await app_client.delete(f"/v1/workloads/{first['id']}", headers=auth(admin_token))
    assert deleting.status_code == 202

    while_deleting = await _submit(
        app_client, admin_token, "checkout-b", manifests=[deployment("checkout")]
    )
    # What the reconciler does once no cluster holds any of its objects.
    raw_db.execute("DELETE FROM workloads WHERE id = %s", (first["id"],))
    after = await _submit(app_client, admin_token, "checkout-b", manifests=[deployment("checkout")])

    assert while_deleting.status_code == 409
    problem = while_deleting.json()
    assert problem["owner"]["deleting"] is True
    assert "being deleted" in problem["detail"]
    assert "free once its objects are gone from every cluster" in problem["detail"]
    assert after.status_code == 201, after.text
    assert _stored(raw_db) == [("checkout-b", "shop", "Deployment", "checkout")]


async def test_a_workload_deleted_at_once_frees_its_objects_at_once(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    await _cluster(app_client, admin_token)
    first = (
        await _submit(app_client, admin_token, "checkout-a", manifests=[deployment("checkout")])
    ).json()

    deleted = await app_client.delete(f"/v1/workloads/{first['id']}", headers=auth(admin_token))
    reused = await _submit(
        app_client, admin_token, "checkout-b", manifests=[deployment("checkout")]
    )

    assert deleted.status_code == 204
    assert reused.status_code == 201, reused.text


def test_migration_gives_existing_workloads_their_objects_keeping_the_oldest_owner(
    db_url: str, raw_db: psycopg.Connection[Any]
) -> None:
    config = alembic_config(db_url, migrations_dir())
    command.downgrade(config, "i7c3syncnotify")
    for name, created, manifests in (
        ("late", "2026-02-01", [deployment("checkout")]),
        ("early", "2026-01-01", [deployment("checkout"), _service("checkout")]),
        ("other", "2026-03-01", [deployment("other")]),
    ):
        raw_db.execute(
            "INSERT INTO workloads (id, name, namespace, team, labels, kind, replicas, manifests,"
            " placement, disruption, spec, revision, status, status_message,"
            " deletion_requested, desired_generation, version, created_at, updated_at)"
            " VALUES (gen_random_uuid(), %s, 'shop', 'shop', '{}', 'Deployment', 2, %s, '{}',"
            " '{}', '{}', 1, 'Placed', '', false, 1, 1, %s, %s)",
            (name, Jsonb(manifests), created, created),
        )

    upgrade_to_head(db_url, migrations_dir())

    assert _stored(raw_db) == [
        ("early", "shop", "Deployment", "checkout"),
        ("early", "shop", "Service", "checkout"),
        ("other", "shop", "Deployment", "other"),
    ]
