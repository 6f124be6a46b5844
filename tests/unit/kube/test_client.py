"""Clients for member clusters trust only the cluster's CA, follow no redirects, never hang.

A local HTTPS server plays the misbehaving endpoint: it answers a redirect, presents a
certificate of another authority, demands a client certificate, or never answers.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import urllib3
from kubernetes.client import VersionApi

from app.clusters.credentials import ClusterCredentials, check_connect_address
from app.kube import (
    KubeAddressError,
    KubeClientPool,
    KubeRedirectError,
    KubeTLSError,
    KubeUnauthorizedError,
    KubeUnreachableError,
    Timeouts,
    build_api_client,
)
from app.kube.client import close_api_client
from tests.unit.kube.https_server import Answer, HttpsServer
from tests.unit.kube.pki import CertificateAuthority

OK = Answer(200, b"ok")


@dataclass
class Authorities:
    cluster: CertificateAuthority
    stranger: CertificateAuthority


@pytest.fixture(scope="module")
def authorities() -> Authorities:
    return Authorities(CertificateAuthority("cluster-ca"), CertificateAuthority("stranger-ca"))


@pytest.fixture
def pool() -> Iterator[KubeClientPool]:
    pool = KubeClientPool(address_guard=None, timeouts=Timeouts(connect=2, read=2))
    yield pool
    pool.close()


def _serve(tmp_path: Path, ca: CertificateAuthority, answer: Answer, **kw: str) -> HttpsServer:
    return HttpsServer(tmp_path / f"server-{time.monotonic_ns()}", ca.issue_server(**kw), answer)


async def test_token_is_sent_as_bearer_to_a_server_the_cluster_ca_vouches_for(
    tmp_path: Path, authorities: Authorities, pool: KubeClientPool
) -> None:
    with _serve(tmp_path, authorities.cluster, OK) as server:
        credentials = ClusterCredentials(server.url, authorities.cluster.pem, token="s3cret")
        readiness = await pool.driver("c1", credentials).readyz()

    assert readiness.ready
    assert server.received[0].headers["authorization"] == "Bearer s3cret"


async def test_server_certificate_from_another_ca_is_refused_before_any_request(
    tmp_path: Path, authorities: Authorities, pool: KubeClientPool
) -> None:
    with _serve(tmp_path, authorities.stranger, OK) as server:
        credentials = ClusterCredentials(server.url, authorities.cluster.pem, token="s3cret")
        with pytest.raises(KubeTLSError, match="not trusted"):
            await pool.driver("c1", credentials).readyz()

    assert server.received == []


async def test_certificate_for_another_address_is_refused(
    tmp_path: Path, authorities: Authorities, pool: KubeClientPool
) -> None:
    with _serve(tmp_path, authorities.cluster, OK, ip="127.0.0.2") as server:
        credentials = ClusterCredentials(server.url, authorities.cluster.pem, token="s3cret")
        with pytest.raises(KubeTLSError, match=r"127\.0\.0\.1"):
            await pool.driver("c1", credentials).readyz()

    assert server.received == []


async def test_redirect_is_not_followed(
    tmp_path: Path, authorities: Authorities, pool: KubeClientPool
) -> None:
    with _serve(tmp_path, authorities.cluster, OK) as target:
        redirect = Answer(302, headers={"Location": f"{target.url}/readyz"})
        with _serve(tmp_path, authorities.cluster, redirect) as server:
            credentials = ClusterCredentials(server.url, authorities.cluster.pem, token="s3cret")
            with pytest.raises(KubeRedirectError, match=target.url):
                await pool.driver("c1", credentials).readyz()

    assert len(server.received) == 1
    assert target.received == []


async def test_client_certificate_is_presented_and_its_key_never_stays_open(
    tmp_path: Path, authorities: Authorities, pool: KubeClientPool
) -> None:
    identity = authorities.cluster.issue_client("placer-client")
    server = HttpsServer(
        tmp_path, authorities.cluster.issue_server(), OK, client_ca=authorities.cluster.pem
    )
    credentials = ClusterCredentials(
        server.url,
        authorities.cluster.pem,
        client_certificate_data=identity.certificate,
        client_key_data=identity.key,
    )
    with server:
        readiness = await pool.driver("c1", credentials).readyz()

    assert readiness.ready
    assert server.received[0].client_subject == "placer-client"
    assert "authorization" not in server.received[0].headers
    assert not [
        fd for fd in os.listdir("/proc/self/fd") if "memfd:placer" in _link(f"/proc/self/fd/{fd}")
    ]


async def test_without_memfd_the_key_file_is_removed_once_loaded(
    tmp_path: Path,
    authorities: Authorities,
    pool: KubeClientPool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(os, "memfd_create")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    identity = authorities.cluster.issue_client("placer-client")
    server = HttpsServer(
        tmp_path / "server",
        authorities.cluster.issue_server(),
        OK,
        client_ca=authorities.cluster.pem,
    )
    credentials = ClusterCredentials(
        server.url,
        authorities.cluster.pem,
        client_certificate_data=identity.certificate,
        client_key_data=identity.key,
    )
    driver = pool.driver("c1", credentials)

    assert list(scratch.iterdir()) == []
    with server:
        assert (await driver.readyz()).ready
    assert server.received[0].client_subject == "placer-client"


def test_unusable_tls_material_is_refused_up_front(authorities: Authorities) -> None:
    identity = authorities.cluster.issue_client("placer-client")
    other = authorities.stranger.issue_client("someone-else")
    server = "https://127.0.0.1:6443"
    with pytest.raises(KubeTLSError, match="CA"):
        build_api_client(
            ClusterCredentials(server, "not a certificate", token="t"), address_guard=None
        )
    with pytest.raises(KubeTLSError, match="client certificate"):
        build_api_client(
            ClusterCredentials(
                server,
                authorities.cluster.pem,
                client_certificate_data=identity.certificate,
                client_key_data=other.key,
            ),
            address_guard=None,
        )
    with pytest.raises(KubeTLSError, match="https"):
        build_api_client(
            ClusterCredentials("http://127.0.0.1:8080", authorities.cluster.pem, token="t"),
            address_guard=None,
        )


async def test_refused_connection_is_unreachable(
    authorities: Authorities, pool: KubeClientPool
) -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    credentials = ClusterCredentials(
        f"https://127.0.0.1:{port}", authorities.cluster.pem, token="t"
    )

    with pytest.raises(KubeUnreachableError, match="cannot connect"):
        await pool.driver("c1", credentials).readyz()


async def test_a_server_that_never_answers_times_out(
    tmp_path: Path, authorities: Authorities
) -> None:
    pool = KubeClientPool(address_guard=None, timeouts=Timeouts(connect=1, read=0.3))
    with _serve(tmp_path, authorities.cluster, Answer(200, b"ok", delay=3)) as server:
        credentials = ClusterCredentials(server.url, authorities.cluster.pem, token="t")
        started = time.monotonic()
        with pytest.raises(KubeUnreachableError, match="did not answer in time"):
            await pool.driver("c1", credentials).readyz()
        elapsed = time.monotonic() - started
        pool.close()

    assert elapsed < 2


def test_calls_made_without_a_timeout_still_get_one(
    tmp_path: Path, authorities: Authorities
) -> None:
    with _serve(tmp_path, authorities.cluster, Answer(200, b"{}", delay=3)) as server:
        api = build_api_client(
            ClusterCredentials(server.url, authorities.cluster.pem, token="t"),
            address_guard=None,
            timeouts=Timeouts(connect=1, read=0.3),
        )
        started = time.monotonic()
        with pytest.raises(urllib3.exceptions.MaxRetryError, match="Read timed out"):
            VersionApi(api).get_code()
        elapsed = time.monotonic() - started
        close_api_client(api)

    assert elapsed < 2


async def test_address_guard_refuses_the_connection_before_tls(
    tmp_path: Path, authorities: Authorities
) -> None:
    pool = KubeClientPool(
        address_guard=lambda address: check_connect_address(address, allowed_networks=())
    )
    with _serve(tmp_path, authorities.cluster, OK) as server:
        credentials = ClusterCredentials(server.url, authorities.cluster.pem, token="t")
        with pytest.raises(KubeAddressError, match="loopback"):
            await pool.driver("c1", credentials).readyz()
        pool.close()

    assert server.received == []


async def test_pool_reuses_a_client_until_the_credentials_change(
    tmp_path: Path, authorities: Authorities, pool: KubeClientPool
) -> None:
    with _serve(tmp_path, authorities.cluster, Answer(401, b"Unauthorized")) as server:
        first = ClusterCredentials(server.url, authorities.cluster.pem, token="old")
        rotated = ClusterCredentials(server.url, authorities.cluster.pem, token="new")

        driver = pool.driver("c1", first)
        assert pool.driver("c1", first) is driver
        with pytest.raises(KubeUnauthorizedError):
            await pool.driver("c1", rotated).readyz()

    assert pool.driver("c1", rotated) is not driver
    assert server.received[0].headers["authorization"] == "Bearer new"


def test_closed_pool_hands_out_no_drivers(authorities: Authorities) -> None:
    pool = KubeClientPool(address_guard=None)
    pool.close()

    with pytest.raises(RuntimeError, match="closed"):
        pool.driver(
            "c1", ClusterCredentials("https://127.0.0.1:1", authorities.cluster.pem, token="t")
        )


def _link(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""
