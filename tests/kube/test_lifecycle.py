"""Clusters can be taken down and brought back, and fleets leave no processes behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import urllib3
from kubernetes import client

from tests.support.kubefleet import Fleet, reap_abandoned_fleets
from tests.support.kubefleet.cluster import REPOSITORY_ROOT
from tests.support.kubefleet.objects import name_of
from tests.support.kubefleet.processes import process_alive, wait_until

pytestmark = pytest.mark.kube

_TESTCLUSTERS = REPOSITORY_ROOT / "scripts" / "testclusters"


def _recorded_pids(directory: Path) -> list[int]:
    return [int(path.read_text()) for path in directory.rglob("*.pid")]


def test_stopped_apiserver_is_unreachable_and_comes_back_with_its_data(
    kube_fleet: Fleet, kube_namespace: str
) -> None:
    cluster = kube_fleet.cluster("iaas-frankfurt")
    with cluster.api_client() as api:
        core = client.CoreV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=kube_namespace)))
        cluster.stop_apiserver()
        try:
            with pytest.raises(urllib3.exceptions.MaxRetryError):
                core.read_namespace(kube_namespace, _request_timeout=5)
        finally:
            cluster.start_apiserver()
        assert name_of(core.read_namespace(kube_namespace)) == kube_namespace


def test_command_line_fleet_starts_and_stops_without_leftovers(tmp_path: Path) -> None:
    environment = {**os.environ, "PLACER_KUBE_RUN_DIR": str(tmp_path)}
    try:
        up = subprocess.run(
            [_TESTCLUSTERS, "up", "1"], env=environment, capture_output=True, text=True, check=False
        )
        assert up.returncode == 0, up.stderr
        (kubeconfig,) = up.stdout.split()
        pids = _recorded_pids(tmp_path)
        kubectl = Path(sys.executable).with_name("kubectl")
        nodes = subprocess.run(
            [kubectl, f"--kubeconfig={kubeconfig}", "get", "nodes", "-o", "name"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert nodes == [
            "node/onprem-tokyo-hall1-1",
            "node/onprem-tokyo-hall1-2",
            "node/onprem-tokyo-hall2-1",
            "node/onprem-tokyo-hall2-2",
        ]
    finally:
        down = subprocess.run(
            [_TESTCLUSTERS, "down"], env=environment, capture_output=True, text=True, check=False
        )
    assert down.returncode == 0, down.stderr
    assert len(pids) == 4  # etcd, kube-apiserver, kube-controller-manager, node simulator
    assert not [pid for pid in pids if process_alive(pid)]
    assert not (tmp_path / "cli").exists()


def test_fleet_dies_with_a_killed_owner_and_is_reaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLACER_KUBE_RUN_DIR", str(tmp_path))
    owner_program = textwrap.dedent(
        """
        import sys, time
        from tests.support.kubefleet import Fleet, default_fleet
        fleet = Fleet.start(default_fleet(1), "owned")
        print(fleet.directory, flush=True)
        time.sleep(600)
        """
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", owner_program],
        env={**os.environ, "PYTHONPATH": str(REPOSITORY_ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        directory = Path(owner.stdout.readline().strip())
        assert json.loads((directory / "fleet.json").read_text())["owner_pid"] == owner.pid
        pids = _recorded_pids(directory)
        assert len(pids) == 4
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    wait_until(
        lambda: not [pid for pid in pids if process_alive(pid)],
        15,
        "the fleet's processes to die with their owner",
    )
    assert reap_abandoned_fleets() == [directory]
    assert not directory.exists()
