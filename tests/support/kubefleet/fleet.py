"""A fleet of test clusters sharing one etcd, started and stopped as a unit.

    fleet = Fleet.start(default_fleet(3))
    try:
        tokyo = fleet.cluster("iaas-tokyo")
        ...  # tokyo.kubeconfig_path, tokyo.server, tokyo.ca_data, tokyo.token
    finally:
        fleet.stop()

Everything listens on 127.0.0.1 at free ports. A fleet lives in one run directory under the
cache (``<cache>/run/<name>``) with a ``fleet.json`` naming its owner process: fleets whose
owner died are stopped by the next ``Fleet.start`` or by ``testclusters down --all``.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import socket
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests.support.kubefleet.build import Binaries, cache_root, installed_binaries
from tests.support.kubefleet.cluster import Cluster
from tests.support.kubefleet.kubeconfig import write_kubeconfig
from tests.support.kubefleet.processes import (
    ManagedProcess,
    ProcessExitedError,
    live_recorded_processes,
    process_alive,
    stop_recorded_processes,
    wait_until,
)
from tests.support.kubefleet.specs import ClusterSpec

_READY_TIMEOUT_SECONDS = 120.0
_STATE_FILE = "fleet.json"
_PORT_ATTEMPTS = 3


class FleetAlreadyRunningError(RuntimeError):
    """The run directory already holds a fleet whose processes are alive."""


RUNS_ENV = "PLACER_KUBE_RUN_DIR"


def runs_directory() -> Path:
    """Where fleets keep their run directories: ``$PLACER_KUBE_RUN_DIR`` or ``<cache>/run``."""
    configured = os.environ.get(RUNS_ENV)
    return Path(configured).expanduser() if configured else cache_root() / "run"


class Fleet:
    """Running clusters; ``clusters`` keeps the order of the specs they were started from."""

    def __init__(self, directory: Path, etcd: ManagedProcess, clusters: list[Cluster]) -> None:
        self.directory = directory
        self.clusters = clusters
        self.kubeconfig_path = directory / "kubeconfig"
        self._etcd = etcd
        self._stopped = False

    @classmethod
    def start(
        cls,
        specs: Sequence[ClusterSpec],
        name: str | None = None,
        *,
        detached: bool = False,
        binaries: Binaries | None = None,
        timeout: float = _READY_TIMEOUT_SECONDS,
    ) -> Fleet:
        """Start one cluster per spec and return once every one serves and has Ready Nodes.

        A fleet dies with the calling process unless detached (the command line's ``up``);
        a detached fleet is stopped with ``stop_fleet_directory`` / ``testclusters down``.
        The kernel ties the components to the *thread* that starts them, so start a fleet,
        and restart an apiserver, from a thread that lives as long as the fleet (the main one).
        """
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"cluster names must be unique, got {names}")
        binaries = binaries or installed_binaries()
        reap_abandoned_fleets()
        directory = runs_directory() / (name or f"pytest-{os.getpid()}")
        attempt = 1
        while True:
            try:
                return cls._start_in(directory, specs, binaries, detached, timeout)
            except ProcessExitedError as error:
                # Another process may take a port between our probe and the server's bind.
                if "address already in use" not in str(error) or attempt == _PORT_ATTEMPTS:
                    raise
                attempt += 1

    @classmethod
    def _start_in(
        cls,
        directory: Path,
        specs: Sequence[ClusterSpec],
        binaries: Binaries,
        detached: bool,
        timeout: float,
    ) -> Fleet:
        if directory.exists():
            if live_recorded_processes(directory):
                raise FleetAlreadyRunningError(
                    f"a fleet is already running in {directory}; stop it first"
                    " (`scripts/testclusters down`)"
                )
            shutil.rmtree(directory)
        directory.mkdir(parents=True)

        etcd_client_port, etcd_peer_port, *api_ports = _free_ports(2 + len(specs))
        etcd_url = f"http://127.0.0.1:{etcd_client_port}"
        etcd = ManagedProcess(
            "etcd",
            [
                str(binaries.etcd),
                "--name=fleet",
                f"--data-dir={directory / 'etcd'}",
                # Test data is disposable; fsync would make every write wait on the disk.
                "--unsafe-no-fsync",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls=http://127.0.0.1:{etcd_peer_port}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer_port}",
                f"--initial-cluster=fleet=http://127.0.0.1:{etcd_peer_port}",
                "--log-level=warn",
            ],
            directory,
        )
        clusters = [
            Cluster(
                spec,
                directory / "clusters" / spec.name,
                port=port,
                etcd_url=etcd_url,
                binaries=binaries,
                die_with_parent=not detached,
            )
            for spec, port in zip(specs, api_ports, strict=True)
        ]
        fleet = cls(directory, etcd, clusters)
        (directory / _STATE_FILE).write_text(
            json.dumps(
                {
                    "owner_pid": None if detached else os.getpid(),
                    "kubeconfig": str(fleet.kubeconfig_path),
                    "clusters": [
                        {
                            "name": cluster.name,
                            "server": cluster.server,
                            "kubeconfig": str(cluster.kubeconfig_path),
                        }
                        for cluster in clusters
                    ],
                },
                indent=2,
            )
        )
        write_kubeconfig(
            fleet.kubeconfig_path,
            [cluster.kubeconfig_entry for cluster in clusters],
            current=clusters[0].name,
        )
        if not detached:
            atexit.register(fleet.stop)
        try:
            fleet._boot(etcd_url, detached, timeout)
        except BaseException:
            fleet.stop()
            raise
        return fleet

    def cluster(self, name: str) -> Cluster:
        for cluster in self.clusters:
            if cluster.name == name:
                return cluster
        raise KeyError(f"no cluster {name!r} in this fleet ({[c.name for c in self.clusters]})")

    def stop(self, *, remove: bool = True) -> None:
        """Stop every process of the fleet; by default delete its run directory too."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        for cluster in self.clusters:
            cluster.stop()
        self._etcd.stop()
        stop_recorded_processes(self.directory)
        if remove:
            shutil.rmtree(self.directory, ignore_errors=True)

    def _boot(self, etcd_url: str, detached: bool, timeout: float) -> None:
        self._etcd.start(die_with_parent=not detached)

        def etcd_healthy() -> bool:
            try:
                health = httpx.get(f"{etcd_url}/health", timeout=2.0).json()
                return isinstance(health, dict) and health.get("health") == "true"
            except (httpx.HTTPError, ValueError):
                return False

        wait_until(etcd_healthy, timeout, "etcd", check=self._etcd.ensure_running)
        for cluster in self.clusters:
            cluster.start_apiserver_process()
        with ThreadPoolExecutor(max_workers=len(self.clusters)) as pool:
            for waited in [
                pool.submit(cluster.wait_apiserver_ready, timeout) for cluster in self.clusters
            ]:
                waited.result()
            for cluster in self.clusters:
                cluster.start_components()
            for waited in [
                pool.submit(cluster.wait_workloads_ready, timeout) for cluster in self.clusters
            ]:
                waited.result()


def stop_fleet_directory(directory: Path) -> list[str]:
    """Stop whatever still runs from a fleet's run directory, then delete the directory."""
    stopped = stop_recorded_processes(directory)
    shutil.rmtree(directory, ignore_errors=True)
    return stopped


def read_fleet_state(directory: Path) -> dict[str, Any]:
    """What ``fleet.json`` records: owner pid, merged kubeconfig, and each cluster's access."""
    state: dict[str, Any] = json.loads((directory / _STATE_FILE).read_text())
    return state


def reap_abandoned_fleets() -> list[Path]:
    """Stop fleets whose owning process has died (a test run killed with SIGKILL, say)."""
    reaped: list[Path] = []
    root = runs_directory()
    if not root.is_dir():
        return reaped
    for directory in root.iterdir():
        try:
            owner = json.loads((directory / _STATE_FILE).read_text()).get("owner_pid")
        except (OSError, ValueError):
            owner = None
            if time.time() - directory.stat().st_mtime < 60:
                continue  # a fleet being created right now by another process
        if owner is None and (directory / _STATE_FILE).exists():
            continue  # detached: stopped only by `testclusters down`
        if owner is None or not process_alive(owner):
            stop_fleet_directory(directory)
            reaped.append(directory)
    return reaped


def _free_ports(count: int) -> list[int]:
    # Holding every socket open until all are bound makes the kernel hand out distinct ports.
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
