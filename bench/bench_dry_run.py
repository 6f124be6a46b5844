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
import os
from typing import Any

from harness import (
    PlacerServer,
    Request,
    add_load_options,
    cluster_body,
    find_wrk,
    load,
    placer_server,
    print_unloaded,
)

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
    cluster = cluster_body(index)
    cluster["name"] = f"dry-{index:03d}"
    cluster["priceBook"] = "dc" if cluster["kind"] == "onprem" else cluster["provider"]
    return cluster


def _inventory(server: PlacerServer) -> dict[str, Any]:
    with server.client() as client:
        for name in BOOKS:
            client.post("/v1/price-books", json=_book(name)).raise_for_status()
        for index in range(CLUSTERS):
            client.post("/v1/clusters", json=_priced_cluster(index)).raise_for_status()
        answer = client.post(DRY_RUN, json=WORKLOAD)
        answer.raise_for_status()
        decision: dict[str, Any] = answer.json()
        return decision


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_load_options(parser, connections=8)
    options = parser.parse_args()

    dry_run = Request("POST", DRY_RUN, WORKLOAD)
    with placer_server(
        workers=options.workers, environment={"PLACER_RECONCILE": "false"}
    ) as server:
        print(f"server: {options.workers} worker(s), {os.cpu_count()} CPU(s) on this machine")
        decision = _inventory(server)
        print(f"{CLUSTERS} clusters; one answer: {decision['summary']}")
        load(
            server,
            dry_run,
            wrk=None if options.httpx else find_wrk(),
            seconds=options.duration,
            connections=options.connections,
            unit="decisions/s",
        )
        print_unloaded(server, dry_run, times=100)


if __name__ == "__main__":
    main()
