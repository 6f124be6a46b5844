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

import httpx
from figures import load_average, report
from harness import (
    CpuMeter,
    PlacerServer,
    Request,
    add_load_options,
    cluster_body,
    find_wrk,
    load,
    placer_server,
    print_unloaded,
    send_concurrently,
)

CLUSTERS = 1000
LIST = Request("GET", "/v1/clusters?limit=50")


def _report_cpu(label: str, meter: CpuMeter, before: tuple[float, float], requests: int) -> None:
    server, postgres = (after - start for after, start in zip(meter.seconds(), before, strict=True))
    print(
        f"  {label} CPU per request: server {server / requests * 1000:.2f} ms, "
        f"postgres {postgres / requests * 1000:.2f} ms; load average {load_average()}"
    )


def _create_clusters(server: PlacerServer, concurrency: int) -> int:
    creates = (Request("POST", "/v1/clusters", cluster_body(index)) for index in range(CLUSTERS))
    latencies, seconds = asyncio.run(
        send_concurrently(server, creates, concurrency, lambda r: r.status_code == 201)
    )
    report("POST /v1/clusters", CLUSTERS, seconds, latencies)
    return CLUSTERS


def _lists_fifty(response: httpx.Response) -> bool:
    return response.status_code == 200 and len(response.json()["items"]) == 50


def _load_generator(install: bool, force_httpx: bool) -> str | None:
    """The wrk executable to use, installing it if asked; None means the httpx generator."""
    if force_httpx:
        print("load generator: httpx in this process (--httpx)")
        return None
    wrk = find_wrk(install=install)
    if wrk is None:
        print(
            "load generator: httpx in this process, wrk is not installed (--install-wrk, or "
            "apt-get install -y wrk); expect far lower figures, it takes CPU from the server"
        )
        return None
    print(f"load generator: wrk ({wrk})")
    return wrk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_load_options(parser, connections=16)
    parser.add_argument("--create-concurrency", type=int, default=8)
    parser.add_argument(
        "--install-wrk", action="store_true", help="apt-get install -y wrk if it is missing"
    )
    options = parser.parse_args()
    wrk = _load_generator(options.install_wrk, options.httpx)

    with placer_server(workers=options.workers) as server:
        print(f"server: {options.workers} worker(s), {os.cpu_count()} CPU(s) on this machine")
        print(f"before: load average {load_average()}")
        meter = CpuMeter(server)
        before = meter.seconds()
        created = _create_clusters(server, options.create_concurrency)
        _report_cpu("POST", meter, before, created)
        before = meter.seconds()
        listed = load(
            server,
            LIST,
            wrk=wrk,
            seconds=options.duration,
            connections=options.connections,
            accept=_lists_fifty,
        )
        _report_cpu("GET", meter, before, listed)
        print_unloaded(server, LIST, times=200)


if __name__ == "__main__":
    main()
