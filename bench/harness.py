"""What the server benchmarks share: a running server, load generators, CPU readings.

* :func:`placer_server` starts ``placer serve`` in a subprocess on a fresh embedded database
  (in a temporary directory, removed afterwards) with a random bootstrap admin token, waits
  until ``/readyz`` answers, and stops it on exit. ``--workers`` is passed only when given,
  extra environment variables (``PLACER_RECONCILE`` ...) are added to the usual ones.
* :func:`cluster_body` is the ``POST /v1/clusters`` body of the benchmarks' synthetic fleet.
* :func:`add_load_options` adds the flags of a load benchmark (``--workers``, ``--duration``,
  ``--connections``, ``--httpx``); :func:`find_wrk` finds (or installs) ``wrk``;
  :func:`load` drives one endpoint for a while with ``wrk`` when given one, else with
  :func:`send_concurrently` (httpx in this process, much slower and taking CPU from the
  server), and prints requests/s and p50/p99 latency. :func:`print_unloaded` prints the
  median latency of one request at a time.
* :class:`CpuMeter` reads from ``/proc`` the CPU time of the server's process tree and of
  the Postgres server.

Percentiles, the load average and the printed rate/latency line are in :mod:`figures`.

Run as ``python bench/<name>.py``, the benchmarks find this module next to them.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import httpx
from figures import report

READY_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 60
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_WRK_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


class Request(NamedTuple):
    """One HTTP request to the server; every request carries the server's admin token."""

    method: str
    path: str
    body: object = None
    """Sent as JSON unless None."""


Accept = Callable[[httpx.Response], bool]


def _ok(response: httpx.Response) -> bool:
    return response.status_code == 200


@dataclass(frozen=True)
class PlacerServer:
    """A running ``placer serve``: where it listens and an admin token for it."""

    base: str
    token: str
    data_dir: Path
    process: subprocess.Popen[bytes]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers=self.headers, timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def placer_server(
    *, workers: int | None = None, environment: Mapping[str, str] | None = None
) -> Iterator[PlacerServer]:
    """``placer serve`` on a fresh embedded database, ready to answer; stopped on exit."""
    data_dir = Path(tempfile.mkdtemp(prefix="placer-bench-"))
    data_dir.chmod(0o755)
    token = "placer_" + secrets.token_urlsafe(32)
    port = free_port()
    command = [str(Path(sys.executable).with_name("placer")), "serve", "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    variables = {
        **os.environ,
        "PLACER_DATA_DIR": str(data_dir / "data"),
        "PLACER_BOOTSTRAP_TOKEN": token,
        "PLACER_LOG_LEVEL": "WARNING",
        "PLACER_ACCESS_LOG": "false",
        **(environment or {}),
    }
    process = subprocess.Popen(command, env=variables, stdout=subprocess.DEVNULL)
    try:
        server = PlacerServer(f"http://127.0.0.1:{port}", token, data_dir, process)
        _wait_ready(server)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(data_dir, ignore_errors=True)


def _wait_ready(server: PlacerServer) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            if httpx.get(server.base + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not become ready")


def cluster_body(index: int) -> dict[str, object]:
    """Cluster ``index`` of a synthetic fleet: mostly IaaS on three providers, six countries."""
    countries = ["JP", "DE", "US", "FR", "IE", "SG"]
    return {
        "name": f"bench-{index:04d}",
        "kind": "iaas" if index % 5 else "onprem",
        "provider": ["aws", "gcp", "azure"][index % 3],
        "region": f"region-{index % 7}",
        "zones": [f"zone-{index % 7}a", f"zone-{index % 7}b"],
        "country": countries[index % len(countries)],
        "labels": {"env": "prod" if index % 2 else "staging", "team": f"t{index % 11}"},
        "taints": [],
        "capacity": {"cpu": "96", "memory": "384Gi", "nvidia.com/gpu": "8", "pods": "1100"},
    }


async def send_concurrently(
    server: PlacerServer, requests: Iterable[Request], concurrency: int, accept: Accept = _ok
) -> tuple[list[float], float]:
    """Send ``requests`` over ``concurrency`` connections, each answer checked by ``accept``.

    Returns every request's latency in milliseconds and the seconds the whole took.
    """
    latencies: list[float] = []
    pending = iter(requests)

    async def worker(client: httpx.AsyncClient) -> None:
        for method, path, body in pending:
            started = time.perf_counter()
            response = await client.request(method, path, json=body, headers=server.headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if not accept(response):
                raise RuntimeError(
                    f"{method} {path} failed: {response.status_code} {response.text}"
                )

    started = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.base, timeout=30, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return latencies, time.perf_counter() - started


def add_load_options(parser: argparse.ArgumentParser, *, connections: int) -> None:
    """The flags every server load benchmark takes, ``--connections`` defaulting as given."""
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--connections", type=int, default=connections)
    parser.add_argument("--httpx", action="store_true", help="use httpx even if wrk exists")


def find_wrk(*, install: bool = False) -> str | None:
    """The ``wrk`` executable, installed first with apt-get (as root) if asked and missing."""
    wrk = shutil.which("wrk")
    if wrk is None and install:
        print("load generator: installing wrk (apt-get install -y wrk)")
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, stdout=subprocess.DEVNULL)
        wrk = shutil.which("wrk")
    return wrk


def load(
    server: PlacerServer,
    request: Request,
    *,
    wrk: str | None,
    seconds: float,
    connections: int,
    accept: Accept = _ok,
    unit: str = "req/s",
) -> int:
    """Load one endpoint for ``seconds``, print its rate and latency; the requests served.

    ``accept`` checks each answer under httpx only: wrk counts non-2xx answers instead.
    """
    method, path = request.method, request.path
    if wrk is None:
        deadline = time.perf_counter() + seconds
        until_deadline = itertools.takewhile(
            lambda _: time.perf_counter() < deadline, itertools.repeat(request)
        )
        latencies, took = asyncio.run(
            send_concurrently(server, until_deadline, connections, accept)
        )
        report(f"{method} {path} (httpx)", len(latencies), took, latencies)
        return len(latencies)
    result = _run_wrk(wrk, server, request, seconds, connections)
    print(
        f"{method} {path} (wrk, {connections} connections): {result.per_second:,.0f} {unit}, "
        f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, non-2xx {result.non_2xx}"
    )
    return result.requests


@dataclass(frozen=True)
class WrkResult:
    """What wrk reported for one run; latencies in milliseconds."""

    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int


def _run_wrk(
    wrk: str, server: PlacerServer, request: Request, seconds: float, connections: int
) -> WrkResult:
    command = [wrk, "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--latency"]
    command += ["-H", f"Authorization: Bearer {server.token}"]
    with tempfile.TemporaryDirectory(prefix="placer-wrk-") as scratch:
        if request.body is not None:
            # wrk sends one fixed request; a body and its method only a Lua script can set.
            script = Path(scratch) / "request.lua"
            script.write_text(
                f"wrk.method = {json.dumps(request.method)}\n"
                f"wrk.body = {json.dumps(json.dumps(request.body))}\n"
                'wrk.headers["Content-Type"] = "application/json"\n'
            )
            command += ["-s", str(script)]
        output = subprocess.run(
            [*command, server.base + request.path], check=True, capture_output=True, text=True
        ).stdout
    return _parse_wrk(output)


def _parse_wrk(output: str) -> WrkResult:
    total = re.search(r"(\d+) requests in", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if total is None or rate is None or p50 is None or p99 is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")

    def ms(match: re.Match[str]) -> float:
        return float(match.group(1)) * _WRK_UNITS_MS[match.group(2)]

    return WrkResult(
        requests=int(total.group(1)),
        per_second=float(rate.group(1)),
        p50_ms=ms(p50),
        p99_ms=ms(p99),
        non_2xx=int(errors.group(1)) if errors else 0,
    )


def print_unloaded(server: PlacerServer, request: Request, times: int) -> None:
    """Print the median latency of ``times`` requests sent one after another."""
    latencies = []
    with server.client() as client:
        for _ in range(times):
            started = time.perf_counter()
            client.request(request.method, request.path, json=request.body)
            latencies.append((time.perf_counter() - started) * 1000)
    median = statistics.median(latencies)
    print(f"{request.method} {request.path} unloaded (1 connection): median {median:.1f} ms")


def _parent_and_ticks(pid: int) -> tuple[int, int] | None:
    """A process's parent and its user + system CPU time in clock ticks, None once gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


class CpuMeter:
    """CPU seconds used by the server's process tree and by the Postgres server's processes.

    CPU time per request is a figure other load on the machine disturbs far less than latency.
    """

    def __init__(self, server: PlacerServer) -> None:
        self.server_pid = server.process.pid
        self.data_dir = server.data_dir

    def _postmaster(self) -> int | None:
        for pid_file in self.data_dir.glob("**/postmaster.pid"):
            return int(pid_file.read_text().split()[0])
        return None

    def seconds(self) -> tuple[float, float]:
        """(server, postgres) CPU seconds so far, of the processes alive now."""
        processes = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (found := _parent_and_ticks(int(entry.name))):
                processes[int(entry.name)] = found
        children: dict[int, list[int]] = {}
        for pid, (parent, _) in processes.items():
            children.setdefault(parent, []).append(pid)

        def tree_ticks(root: int | None) -> int:
            if root is None or root not in processes:
                return 0
            return processes[root][1] + sum(tree_ticks(c) for c in children.get(root, []))

        postmaster = self._postmaster()
        postgres = tree_ticks(postmaster)
        server = tree_ticks(self.server_pid) - (
            postgres if postmaster in _descendants(self.server_pid, children) else 0
        )
        return server / _CLOCK_TICKS, postgres / _CLOCK_TICKS


def _descendants(root: int, children: dict[int, list[int]]) -> set[int]:
    found: set[int] = set()
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.add(child)
            pending.append(child)
    return found
