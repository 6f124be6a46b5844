"""Cluster credentials: encrypted at rest, never returned, hostile kubeconfigs refused."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.support.api import auth
from tests.support.factories import (
    TEST_BEARER,
    ca_pem,
    cluster_payload,
    kubeconfig_document,
    kubeconfig_text,
)


def _with_kubeconfig(text: str) -> dict[str, Any]:
    return cluster_payload(credentials={"kubeconfig": text})


async def test_credentials_are_stored_encrypted_and_never_returned(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    response = await app_client.post(
        "/v1/clusters", json=_with_kubeconfig(kubeconfig_text()), headers=auth(admin_token)
    )

    assert response.status_code == 201, response.text
    assert response.json()["credentials"] == {
        "configured": True,
        "server": "https://127.0.0.1:6443",
    }
    listed = await app_client.get("/v1/clusters", headers=auth(admin_token))
    read = await app_client.get("/v1/clusters/aws-tokyo", headers=auth(admin_token))
    audit = await app_client.get("/v1/audit-events", headers=auth(admin_token))
    for answer in (response, listed, read, audit):
        assert TEST_BEARER not in answer.text
        assert "BEGIN CERTIFICATE" not in answer.text
    row = raw_db.execute("SELECT credentials_ciphertext FROM clusters").fetchone()
    assert row is not None
    stored = bytes(row[0])
    assert TEST_BEARER.encode() not in stored
    assert b"BEGIN CERTIFICATE" not in stored
    assert base64.b64encode(TEST_BEARER.encode())[:20] not in stored
    dump = "\n".join(str(line) for line in raw_db.execute("SELECT * FROM audit_events").fetchall())
    assert TEST_BEARER not in dump


async def test_fields_credentials_work_and_can_be_replaced_and_forgotten(
    app_client: httpx.AsyncClient, admin_token: str, raw_db: psycopg.Connection[Any]
) -> None:
    fields = {"server": "https://127.0.0.2:6443", "caData": ca_pem(), "token": TEST_BEARER}
    created = await app_client.post(
        "/v1/clusters", json=cluster_payload(credentials=fields), headers=auth(admin_token)
    )
    assert created.status_code == 201, created.text
    assert created.json()["credentials"]["server"] == "https://127.0.0.2:6443"

    forgotten = await app_client.patch(
        "/v1/clusters/aws-tokyo", json={"credentials": None}, headers=auth(admin_token)
    )

    assert forgotten.status_code == 200
    assert forgotten.json()["credentials"] == {"configured": False, "server": None}
    assert raw_db.execute("SELECT credentials_ciphertext FROM clusters").fetchone() == (None,)


async def test_kubeconfig_and_fields_together_are_refused(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    credentials = {"kubeconfig": kubeconfig_text(), "token": TEST_BEARER}
    response = await app_client.post(
        "/v1/clusters", json=cluster_payload(credentials=credentials), headers=auth(admin_token)
    )

    assert response.status_code == 422
    assert response.json()["field"] == "credentials.token"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP port on loopback that records whether anyone connected to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def _connections(server: socket.socket) -> int:
    accepted = 0
    while True:
        try:
            connection, _ = server.accept()
        except BlockingIOError:
            return accepted
        connection.close()
        accepted += 1


def _user(document: dict[str, Any], **user: Any) -> dict[str, Any]:
    document["users"][0]["user"] = user
    return document


def _cluster(document: dict[str, Any], **fields: Any) -> dict[str, Any]:
    document["clusters"][0]["cluster"].update(fields)
    return document


def _hostile_kubeconfigs(marker: Path, port: int) -> list[tuple[str, str, str]]:
    """(id, kubeconfig text, the field the refusal must name)."""
    exec_plugin = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "/bin/sh",
            "args": ["-c", f"touch {marker}"],
        }
    }
    cases: list[tuple[str, dict[str, Any] | str, str]] = [
        ("exec-plugin", _user(kubeconfig_document(), **exec_plugin), "exec"),
        (
            "auth-provider",
            _user(kubeconfig_document(), **{"auth-provider": {"name": "gcp", "config": {}}}),
            "auth-provider",
        ),
        ("token-file", _user(kubeconfig_document(), tokenFile=str(marker)), "tokenFile"),
        (
            "client-key-path",
            _user(
                kubeconfig_document(),
                **{"client-certificate": str(marker), "client-key": str(marker)},
            ),
            "client-",
        ),
        (
            "ca-path",
            _cluster(kubeconfig_document(), **{"certificate-authority": "/etc/ssl/ca.pem"}),
            "certificate-authority",
        ),
        (
            "proxy",
            _cluster(kubeconfig_document(), **{"proxy-url": f"http://127.0.0.1:{port}"}),
            "proxy-url",
        ),
        (
            "insecure",
            _cluster(kubeconfig_document(), **{"insecure-skip-tls-verify": True}),
            "insecure-skip-tls-verify",
        ),
        ("plain-http", kubeconfig_document(server=f"http://127.0.0.1:{port}"), "server"),
        ("metadata-address", kubeconfig_document(server="https://169.254.169.254"), "server"),
        ("private-address", kubeconfig_document(server="https://10.0.0.1:6443"), "server"),
        ("ipv6-loopback", kubeconfig_document(server="https://[::1]:6443"), "server"),
        ("localhost-name", kubeconfig_document(server="https://localhost:6443"), "server"),
        ("decimal-ip", kubeconfig_document(server="https://2130706433:6443"), "server"),
        (
            "credentials-in-url",
            kubeconfig_document(server=f"https://user:pass@127.0.0.1:{port}"),
            "server",
        ),
        (
            "yaml-alias-bomb",
            "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n",
            "kubeconfig",
        ),
        ("not-yaml", "{{{{", "kubeconfig"),
    ]
    return [
        (name, text if isinstance(text, str) else kubeconfig_text(text), field)
        for name, text, field in cases
    ]


HOSTILE_IDS = [case[0] for case in _hostile_kubeconfigs(Path("/x"), 1)]


@pytest.mark.parametrize("case", HOSTILE_IDS)
async def test_hostile_kubeconfig_is_refused_without_side_effects(
    app_client: httpx.AsyncClient,
    *,
    admin_token: str,
    raw_db: psycopg.Connection[Any],
    listener: socket.socket,
    tmp_path: Path,
    case: str,
) -> None:
    marker = tmp_path / "exec-ran"
    port = listener.getsockname()[1]
    kubeconfigs = {name: (text, field) for name, text, field in _hostile_kubeconfigs(marker, port)}
    text, field = kubeconfigs[case]

    response = await app_client.post(
        "/v1/clusters", json=_with_kubeconfig(text), headers=auth(admin_token)
    )

    assert 400 <= response.status_code < 500, response.text
    problem = response.json()
    assert problem["field"].startswith("credentials.kubeconfig"), problem
    assert field in problem["field"], problem
    assert raw_db.execute("SELECT count(*) FROM clusters").fetchone() == (0,)
    assert raw_db.execute(
        "SELECT count(*) FROM audit_events WHERE resource_type = 'cluster'"
    ).fetchone() == (0,)
    assert not marker.exists()
    assert _connections(listener) == 0
