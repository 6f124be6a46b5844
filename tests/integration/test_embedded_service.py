"""The ``placer`` command on the embedded database: data survives restarts, serve seeds samples."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

PLACER = str(Path(sys.executable).with_name("placer"))


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A data directory the embedded server's unprivileged user can reach (see tests.support.db)."""
    parent = Path(tempfile.mkdtemp(prefix="placer-cli-test-"))
    parent.chmod(0o755)
    yield parent / "data"
    subprocess.run(["rm", "-rf", str(parent)], check=False)


def _environment(data_dir: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PLACER_")}
    environment["PLACER_DATA_DIR"] = str(data_dir)
    return environment


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_keeps_data_across_restarts_and_seeds_the_sample_inventory(data_dir: Path) -> None:
    environment = _environment(data_dir)
    upgrade = subprocess.run(
        [PLACER, "db", "upgrade"], env=environment, capture_output=True, text=True, check=False
    )
    assert upgrade.returncode == 0, upgrade.stderr
    issued = subprocess.run(
        [PLACER, "token", "create", "--role", "viewer", "--name", "reader"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip().splitlines()[-1]
    assert token.startswith("placer_")

    port = _free_port()
    server = subprocess.Popen(
        [PLACER, "serve", "--port", str(port), "--seed-sample-data"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        clusters = _wait_for_clusters(f"http://127.0.0.1:{port}", token, server)
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = server.communicate(timeout=60)

    assert len(clusters) == 6
    assert len({cluster["country"] for cluster in clusters if cluster["kind"] == "iaas"}) >= 3
    assert sum(cluster["kind"] == "onprem" for cluster in clusters) == 2
    assert all(cluster["pricing"] is not None for cluster in clusters)
    assert b"admin token was created" not in errors
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
    assert (data_dir / "secret-key").stat().st_mode & 0o777 == 0o600


def _wait_for_clusters(
    base: str, token: str, server: subprocess.Popen[bytes]
) -> list[dict[str, object]]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, "placer serve exited"
        try:
            response = httpx.get(
                f"{base}/v1/clusters", headers={"Authorization": f"Bearer {token}"}, timeout=5
            )
        except httpx.TransportError:
            time.sleep(0.5)
            continue
        assert response.status_code == 200, response.text
        items: list[dict[str, object]] = response.json()["items"]
        return items
    raise AssertionError("placer serve did not answer")
