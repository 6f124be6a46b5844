"""Benchmark: submit → applied latency, from ``POST /v1/workloads`` until the Deployment exists
in the target kube-apiserver, for 200 workloads. Goal: p99 <= 1 s.

Starts a fleet of real test clusters (two: ``onprem-tokyo``, ``iaas-tokyo``) and ``placer
serve`` on a fresh embedded database with its reconciler on, registers the clusters with
their credentials, then submits the workloads one after another (``--interval`` apart) while
a watch on every cluster notes when each Deployment appears. Prints p50/p90/p99/max.

    .venv/bin/python bench/bench_submit_to_applied.py [--workloads 200] [--interval 0.05]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
from figures import percentile
from harness import placer_server
from kubernetes import client, watch

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from tests.support.kubefleet import Fleet, ensure_binaries  # noqa: E402
from tests.support.kubefleet.cluster import Cluster  # noqa: E402
from tests.support.kubefleet.specs import default_fleet  # noqa: E402

WORKLOAD_ID_LABEL = "placer.io/workload-id"


class AppliedWatch:
    """Notes, per workload id, when its Deployment first appears in any cluster."""

    def __init__(self, clusters: list[Cluster]) -> None:
        self.seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._watch, args=(cluster,), daemon=True)
            for cluster in clusters
        ]
        for thread in self._threads:
            thread.start()

    def _watch(self, cluster: Cluster) -> None:
        with cluster.api_client() as api:
            apps = client.AppsV1Api(api)
            while not self._stop.is_set():
                stream = watch.Watch().stream(  # type: ignore[no-untyped-call]
                    apps.list_deployment_for_all_namespaces,
                    label_selector=WORKLOAD_ID_LABEL,
                    timeout_seconds=5,
                )
                for event in stream:
                    labels = event["object"].metadata.labels or {}
                    workload_id = labels.get(WORKLOAD_ID_LABEL)
                    if workload_id:
                        with self._lock:
                            self.seen.setdefault(workload_id, time.perf_counter())

    def wait_for(self, ids: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if all(i in self.seen for i in ids):
                    return
            time.sleep(0.05)
        missing = [i for i in ids if i not in self.seen]
        raise RuntimeError(f"{len(missing)} workloads never applied")

    def stop(self) -> None:
        self._stop.set()


def _workload(index: int) -> dict[str, object]:
    name = f"bench-{index:04d}"
    labels = {"app": name}
    return {
        "name": name,
        "namespace": "bench",
        "team": "bench",
        "labels": {},
        "placement": {"strategy": "single"},
        "manifests": [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "containers": [
                                {
                                    "name": "app",
                                    "image": "registry.example/app:1",
                                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                                }
                            ]
                        },
                    },
                },
            }
        ],
    }


def _register(http: httpx.Client, fleet: Fleet) -> None:
    for cluster in fleet.clusters:
        spec = cluster.spec
        body = {
            "name": spec.name,
            "kind": spec.kind,
            "provider": spec.provider,
            "region": spec.region,
            "zones": list(spec.zones),
            "country": spec.country,
            "capacity": {"cpu": "64", "memory": "256Gi", "pods": "1000"},
            "credentials": {"kubeconfig": cluster.kubeconfig_path.read_text()},
        }
        response = http.post("/v1/clusters", json=body)
        response.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workloads", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--clusters", type=int, default=2)
    options = parser.parse_args()

    fleet = Fleet.start(default_fleet(options.clusters), binaries=ensure_binaries())
    applied = AppliedWatch(fleet.clusters)
    try:
        with (
            placer_server(
                environment={
                    "PLACER_ALLOWED_CLUSTER_NETWORKS": "127.0.0.1/32",
                    "PLACER_RECONCILE": "true",
                }
            ) as server,
            server.client() as http,
        ):
            _register(http, fleet)
            submitted: dict[str, float] = {}
            answered: list[float] = []
            for index in range(options.workloads):
                started = time.perf_counter()
                response = http.post("/v1/workloads", json=_workload(index))
                response.raise_for_status()
                submitted[response.json()["id"]] = started
                answered.append((time.perf_counter() - started) * 1000)
                time.sleep(options.interval)
            applied.wait_for(list(submitted), timeout=120)
        latencies = [(applied.seen[i] - submitted[i]) * 1000 for i in submitted]
        print(
            f"submit -> applied, {len(latencies)} workloads, {options.clusters} clusters, "
            f"{os.cpu_count()} CPUs: p50 {percentile(latencies, 0.5):.0f} ms, "
            f"p90 {percentile(latencies, 0.9):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms,"
            f" max {max(latencies):.0f} ms, mean {statistics.fmean(latencies):.0f} ms"
            " (goal p99 <= 1000 ms)"
        )
        print(
            f"of which POST /v1/workloads (decision stored): p50 {percentile(answered, 0.5):.0f}"
            f" ms, p99 {percentile(answered, 0.99):.0f} ms"
        )
    finally:
        applied.stop()
        fleet.stop()


if __name__ == "__main__":
    main()
