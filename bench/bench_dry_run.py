"""Benchmark: ``POST /v1/placements:dry-run`` decisions per second over REST, 100 clusters.

Starts ``placer serve`` in a subprocess on a fresh embedded database (the reconciler off),
adds 4 price books and 100 clusters (IaaS and on-prem, six countries) through the API, checks
one dry-run answer, then loads the endpoint with ``wrk`` when installed (``apt-get install -y
wrk``) or else with an httpx load generator, and prints decisions/s with p50/p99 latency and
the unloaded latency of one request. The workload is ``divided`` over 4 replicas under the
sample policies (EU customer data: only EU clusters qualify). Goal: >= 200 decisions/s on 2
cores.

    .venv/bin/python bench/bench_dry_run.py [--workers 2] [--duration 15] [--connections 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from bench_api import _cluster, _free_port, _report, _wait_ready

CLUSTERS = 100
DRY_RUN = "/v1/placements:dry-run"
BOOKS = {
    "aws": ("iaas", {"cpuPerVcpuHour": "0.0416", "memoryPerGibHour": "0.0052"}),
    "gcp": ("iaas", {"cpuPerVcpuHour": "0.0380", "memoryPerGibHour": "0.0050"}),
    "azure": ("iaas", {"cpuPerVcpuHour": "0.0450", "memoryPerGibHour": "0.0049"}),
    "dc": ("onprem", None),
}
WORKLOAD: dict[str, Any] = {
    "name": "checkout",
    "namespace": "shop",
    "team": "shop",
    "labels": {"customer-region": "eu", "data-class": "personal"},
    "manifests": [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "checkout"},
            "spec": {
                "replicas": 4,
                "selector": {"matchLabels": {"app": "checkout"}},
                "template": {
                    "metadata": {"labels": {"app": "checkout"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "main",
                                "image": "shop/checkout:1.4",
                                "resources": {"requests": {"cpu": "2", "memory": "4Gi"}},
                            }
                        ]
                    },
                },
            },
        }
    ],
    "placement": {"strategy": "divided", "maxHourlyCost": "5.00"},
}


def _book(name: str) -> dict[str, Any]:
    kind, rates = BOOKS[name]
    version: dict[str, Any] = {"effectiveFrom": "2026-01-01T00:00:00Z"}
    if rates is None:
        version["monthlyFixedCost"] = "38000"
    else:
        version["rates"] = rates
    return {"name": name, "kind": kind, "currency": "USD", "version": version}


def _priced_cluster(index: int) -> dict[str, Any]:
    cluster = _cluster(index)
    cluster["name"] = f"dry-{index:03d}"
    cluster["priceBook"] = "dc" if cluster["kind"] == "onprem" else cluster["provider"]
    return cluster


def _inventory(base: str, token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for name in BOOKS:
            client.post("/v1/price-books", json=_book(name)).raise_for_status()
        for index in range(CLUSTERS):
            client.post("/v1/clusters", json=_priced_cluster(index)).raise_for_status()
        answer = client.post(DRY_RUN, json=WORKLOAD)
        answer.raise_for_status()
        decision: dict[str, Any] = answer.json()
        return decision


async def _httpx_load(base: str, token: str, seconds: float, concurrency: int) -> None:
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.post(DRY_RUN, json=WORKLOAD, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"dry-run failed: {response.status_code} {response.text}")

    started = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    _report(f"POST {DRY_RUN} (httpx)", len(latencies), time.perf_counter() - started, latencies)


def _wrk_load(wrk: str, base: str, token: str, seconds: float, connections: int) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(json.dumps(WORKLOAD))}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        )
    try:
        output = subprocess.run(
            [
                wrk,
                "-t2",
                f"-c{connections}",
                f"-d{int(seconds)}s",
                "--latency",
                "-s",
                script.name,
                base + DRY_RUN,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        Path(script.name).unlink()
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if rate is None or p50 is None or p99 is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")

    def ms(match: re.Match[str]) -> float:
        return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]

    print(
        f"POST {DRY_RUN} (wrk, {connections} connections): "
        f"{float(rate.group(1)):,.0f} decisions/s, p50 {ms(p50):.1f} ms, p99 {ms(p99):.1f} ms, "
        f"non-2xx {errors.group(1) if errors else 0}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--httpx", action="store_true", help="use httpx even if wrk exists")
    options = parser.parse_args()

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
        "PLACER_RECONCILE": "false",
    }
    placer = Path(sys.executable).with_name("placer")
    command = [str(placer), "serve", "--port", str(port), "--workers", str(options.workers)]
    server = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL)
    try:
        _wait_ready(base, server)
        print(f"server: {options.workers} worker(s), {os.cpu_count()} CPU(s) on this machine")
        decision = _inventory(base, token)
        print(f"{CLUSTERS} clusters; one answer: {decision['summary']}")
        wrk = shutil.which("wrk")
        if wrk is not None and not options.httpx:
            _wrk_load(wrk, base, token, options.duration, options.connections)
        else:
            asyncio.run(_httpx_load(base, token, options.duration, options.connections))
        single = []
        with httpx.Client(base_url=base) as client:
            for _ in range(100):
                started = time.perf_counter()
                client.post(DRY_RUN, json=WORKLOAD, headers={"Authorization": f"Bearer {token}"})
                single.append((time.perf_counter() - started) * 1000)
        print(f"POST {DRY_RUN} unloaded (1 connection): median {statistics.median(single):.1f} ms")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
