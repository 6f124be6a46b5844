"""Load benchmark of the API: ``GET /v1/clusters?limit=50`` with 1,000 clusters, and creates.

Starts ``placer serve`` in a subprocess on a fresh embedded database (or on
``PLACER_DATABASE_URL`` if set: use an empty database), creates 1,000 clusters through
``POST /v1/clusters`` (measured), then loads the list endpoint and prints requests/s and
p50/p99 latency of both, the CPU time the server processes and Postgres spent per request
(a figure other load on the machine disturbs far less than latency), and the load average.
Goal: >= 1,000 GET/s with p99 <= 20 ms on 2 cores.

The list is loaded with ``wrk`` when it is installed; ``--install-wrk`` installs it first
(``apt-get install -y wrk``, as root). Without it an httpx load generator in this process
is used, and the output says so: it is much slower than wrk and takes CPU from the server.

    .venv/bin/python bench/bench_api.py [--workers 2] [--duration 15] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
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
from pathlib import Path

import httpx

CLUSTERS = 1000
LIST_PATH = "/v1/clusters?limit=50"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def _parent_and_ticks(pid: int) -> tuple[int, int] | None:
    """A process's parent and its user + system CPU time in clock ticks, None once gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


class CpuMeter:
    """CPU seconds used by the server's process tree and by the Postgres server's processes."""

    def __init__(self, server_pid: int, data_dir: Path) -> None:
        self.server_pid = server_pid
        self.data_dir = data_dir

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


def _report_cpu(label: str, meter: CpuMeter, before: tuple[float, float], requests: int) -> None:
    server, postgres = (after - start for after, start in zip(meter.seconds(), before, strict=True))
    print(
        f"  {label} CPU per request: server {server / requests * 1000:.2f} ms, "
        f"postgres {postgres / requests * 1000:.2f} ms; {_load_average()}"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _cluster(index: int) -> dict[str, object]:
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


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _report(label: str, count: int, seconds: float, latencies_ms: list[float]) -> None:
    p50, p99 = _percentile(latencies_ms, 0.50), _percentile(latencies_ms, 0.99)
    print(
        f"{label}: {count} requests in {seconds:.1f}s = {count / seconds:,.0f} req/s, "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )


async def _create_clusters(base: str, token: str, concurrency: int) -> int:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(CLUSTERS):
        queue.put_nowait(index)
    headers = {"Authorization": f"Bearer {token}"}

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            index = queue.get_nowait()
            started = time.perf_counter()
            response = await client.post("/v1/clusters", json=_cluster(index), headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 201:
                raise RuntimeError(f"create failed: {response.status_code} {response.text}")

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    _report("POST /v1/clusters", CLUSTERS, time.perf_counter() - started, latencies)
    return CLUSTERS


async def _httpx_list_load(base: str, token: str, seconds: float, concurrency: int) -> int:
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.get(LIST_PATH, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200 or len(response.json()["items"]) != 50:
                raise RuntimeError(f"list failed: {response.status_code}")

    started = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    _report(f"GET {LIST_PATH} (httpx)", len(latencies), time.perf_counter() - started, latencies)
    return len(latencies)


def _wrk_list_load(wrk: str, base: str, token: str, seconds: float, connections: int) -> int:
    output = subprocess.run(
        [
            wrk,
            "-t2",
            f"-c{connections}",
            f"-d{int(seconds)}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            base + LIST_PATH,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    total = re.search(r"(\d+) requests in", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if total is None or rate is None or p50 is None or p99 is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")

    def ms(match: re.Match[str]) -> float:
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
        return float(match.group(1)) * scale

    print(
        f"GET {LIST_PATH} (wrk, {connections} connections): {float(rate.group(1)):,.0f} req/s, "
        f"p50 {ms(p50):.1f} ms, p99 {ms(p99):.1f} ms, "
        f"non-2xx {errors.group(1) if errors else 0}"
    )
    return int(total.group(1))


def _load_generator(install: bool, force_httpx: bool) -> str | None:
    """The wrk executable to use, installing it if asked; None means the httpx generator."""
    if force_httpx:
        print("load generator: httpx in this process (--httpx)")
        return None
    wrk = shutil.which("wrk")
    if wrk is None and install:
        print("load generator: installing wrk (apt-get install -y wrk)")
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, stdout=subprocess.DEVNULL)
        wrk = shutil.which("wrk")
    if wrk is None:
        print(
            "load generator: httpx in this process, wrk is not installed (--install-wrk, or "
            "apt-get install -y wrk); expect far lower figures, it takes CPU from the server"
        )
        return None
    print(f"load generator: wrk ({wrk})")
    return wrk


def _wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--create-concurrency", type=int, default=8)
    parser.add_argument("--httpx", action="store_true", help="use httpx even if wrk exists")
    parser.add_argument(
        "--install-wrk", action="store_true", help="apt-get install -y wrk if it is missing"
    )
    options = parser.parse_args()
    wrk = _load_generator(options.install_wrk, options.httpx)

    data_dir = Path(tempfile.mkdtemp(prefix="placer-bench-"))
    data_dir.chmod(0o755)
    token = "placer_" + secrets.token_urlsafe(32)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "PLACER_DATA_DIR": str(data_dir / "data"),
        "PLACER_BOOTSTRAP_TOKEN": token,
        "PLACER_LOG_LEVEL": "WARNING",
        "PLACER_ACCESS_LOG": "false",
    }
    placer = Path(sys.executable).with_name("placer")
    command = [str(placer), "serve", "--port", str(port), "--workers", str(options.workers)]
    server = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL)
    try:
        _wait_ready(base, server)
        print(f"server: {options.workers} worker(s), {os.cpu_count()} CPU(s) on this machine")
        print(f"before: {_load_average()}")
        meter = CpuMeter(server.pid, data_dir)
        before = meter.seconds()
        created = asyncio.run(_create_clusters(base, token, options.create_concurrency))
        _report_cpu("POST", meter, before, created)
        before = meter.seconds()
        if wrk is not None:
            listed = _wrk_list_load(wrk, base, token, options.duration, options.connections)
        else:
            listed = asyncio.run(
                _httpx_list_load(base, token, options.duration, options.connections)
            )
        _report_cpu("GET", meter, before, listed)
        single = []
        with httpx.Client(base_url=base) as client:
            for _ in range(200):
                started = time.perf_counter()
                client.get(LIST_PATH, headers={"Authorization": f"Bearer {token}"})
                single.append((time.perf_counter() - started) * 1000)
        print(f"GET {LIST_PATH} unloaded (1 connection): median {statistics.median(single):.1f} ms")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
