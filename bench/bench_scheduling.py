"""Benchmark: one decision for a ``divided`` workload under 5 enforced policies.

Fleets of 100, 1,000 and 5,000 clusters. Per fleet size and mode it prints the number of
decisions timed, p50 and p99 of wall-clock and of CPU time, and the longest garbage-collector
pause, after the machine's load average (other engineers share it: wall time includes waiting
for a core, CPU time does not). "warm" decisions reuse a scheduler over the same snapshot (the
service's steady state: memoized policy results and per-snapshot equivalence caches, with a
new workload object each time); "cold" builds a new snapshot, policy set and scheduler every
time. Goal: p99 <= 30 ms at 1,000 clusters (warm).

    .venv/bin/python bench/bench_scheduling.py [--decisions 200] [--sizes 1000] [--gc-freeze]
"""

import argparse
import gc
import os
import random
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from figures import load_average, percentile

from app.kubetypes.taints import Taint, TaintEffect
from app.policies.evaluation import PolicySet
from app.scheduling.registry import DEFAULT_PROFILE
from app.scheduling.scheduler import Scheduler
from app.scheduling.types import (
    CPU,
    GIB,
    MEMORY,
    MICROS,
    ClusterKind,
    ClusterSnapshot,
    ClusterState,
    DivideBy,
    InventorySnapshot,
    PlacementSpec,
    Price,
    Resources,
    Strategy,
    WorkloadSpec,
)

POLICIES = """
apiVersion: placer/v1
kind: PlacementPolicy
metadata: {name: known-countries}
spec:
  rules:
    - require: cluster.country in ["JP", "DE", "FR", "US", "SG"]
---
apiVersion: placer/v1
kind: PlacementPolicy
metadata: {name: no-dev-clusters}
spec:
  match: workload.labels["env"] == "prod"
  rules:
    - require: '"tier" in cluster.labels && cluster.labels["tier"] != "dev"'
---
apiVersion: placer/v1
kind: PlacementPolicy
metadata: {name: restricted-onprem}
spec:
  rules:
    - require: workload.labels["data-class"] != "restricted" || cluster.kind == "onprem"
---
apiVersion: placer/v1
kind: PlacementPolicy
metadata: {name: big-enough}
spec:
  rules:
    - require: cluster.capacity["cpu"] >= 8000
    - prefer: cluster.kind == "onprem"
      weight: 30
---
apiVersion: placer/v1
kind: PlacementPolicy
metadata: {name: no-quarantine}
spec:
  rules:
    - require: '!("quarantine" in cluster.labels)'
      message: quarantined clusters take nothing
"""
COUNTRIES = ["JP", "DE", "FR", "US", "SG", "BR"]
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def fleet(size: int, rng: random.Random) -> InventorySnapshot:
    clusters = []
    for index in range(size):
        kind = ClusterKind.ONPREM if rng.random() < 0.3 else ClusterKind.IAAS
        cpu = rng.choice([4, 16, 64, 128]) * 1000
        labels = {"tier": rng.choice(["prod", "prod", "dev"]), "rack": f"r{index % 40}"}
        if rng.random() < 0.05:
            labels["quarantine"] = "true"
        clusters.append(
            ClusterSnapshot(
                name=f"c{index:05d}",
                kind=kind,
                provider="dc" if kind is ClusterKind.ONPREM else "aws",
                region=f"region-{index % 12}",
                country=rng.choice(COUNTRIES),
                price=Price(
                    "USD",
                    "bench@1",
                    {CPU: rng.randint(20_000, 60_000), MEMORY: rng.randint(3_000, 8_000)},
                    monthly_fixed=30_000 * MICROS if kind is ClusterKind.ONPREM else 0,
                ),
                zones=(f"z{index % 30}",),
                labels=labels,
                taints=(Taint("gpu", "true", TaintEffect.NO_SCHEDULE),)
                if rng.random() < 0.1
                else (),
                state=ClusterState.CORDONED if rng.random() < 0.03 else ClusterState.READY,
                capacity=Resources({CPU: cpu, MEMORY: cpu // 1000 * 4 * GIB}),
                allocated=Resources({CPU: rng.randint(0, cpu), MEMORY: rng.randint(0, GIB)}),
            )
        )
    return InventorySnapshot(tuple(clusters), (), NOW)


def workload(index: int) -> WorkloadSpec:
    return WorkloadSpec(
        name=f"api-{index}",
        namespace="shop",
        team="payments",
        replicas=40,
        requests=Resources({CPU: 500, MEMORY: GIB // 2}),
        labels={"env": "prod", "data-class": "internal"},
        placement=PlacementSpec(strategy=Strategy.DIVIDED, divide_by=DivideBy.CAPACITY),
    )


class Timings:
    """Wall-clock and CPU milliseconds of each decision in a run, and the garbage collector's
    longest pause during them.

    CPU time (``time.process_time``) is what a decision itself costs; wall time also counts
    waiting for a core while other processes load the machine. Both are printed. A full
    collection walks every live object (the fleet included), so it shows at p99 first.
    """

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.gc_pauses: list[float] = []
        self._gc_started = 0.0

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_pauses.append((time.perf_counter() - self._gc_started) * 1000)

    @contextmanager
    def measure(self) -> Iterator[None]:
        gc.callbacks.append(self._on_gc)
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            yield
            self.cpu.append((time.process_time() - cpu) * 1000)
            self.wall.append((time.perf_counter() - wall) * 1000)
        finally:
            gc.callbacks.remove(self._on_gc)

    def row(self, size: int, mode: str, placed: str) -> str:
        wall50, wall99 = statistics.median(self.wall), percentile(self.wall, 0.99)
        cpu50, cpu99 = statistics.median(self.cpu), percentile(self.cpu, 0.99)
        gc_max = max(self.gc_pauses, default=0.0)
        return (
            f"{size:>8} {mode:>5} {len(self.wall):>5} {wall50:>8.2f} {wall99:>8.2f}"
            f" {cpu50:>8.2f} {cpu99:>8.2f} {gc_max:>8.2f}  {placed}"
        )


def machine_load() -> str:
    return f"{load_average()} (1/5/15 min) on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000, 5_000])
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() once the fleet is built, as a service would after loading it",
    )
    args = parser.parse_args()
    print(f"load average at start: {machine_load()}")
    print(f"gc.freeze after loading the fleet: {'yes' if args.gc_freeze else 'no'}")
    print(
        f"{'clusters':>8} {'mode':>5} {'n':>5} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'cpu p50':>8} {'cpu p99':>8} {'gc max':>8}  placed"
    )
    for size in args.sizes:
        count = args.decisions if size <= 1_000 else max(args.decisions // 2, 20)
        snapshot = fleet(size, random.Random(size))
        scheduler = Scheduler(DEFAULT_PROFILE, PolicySet.from_text(POLICIES))
        decision = scheduler.decide(snapshot, workload(-1), NOW)
        if args.gc_freeze:
            gc.freeze()
        warm = Timings()
        for index in range(count):
            spec = workload(index)
            with warm.measure():
                decision = scheduler.decide(snapshot, spec, NOW)
        assert decision.placed, decision.summary
        placed = f"{sum(decision.assignment.values())} replicas on {len(decision.assignment)}"
        cold = Timings()
        for index in range(max(count // 10, 5)):
            fresh = fleet(size, random.Random(size))
            policies = PolicySet.from_text(POLICIES)
            spec = workload(index)
            with cold.measure():
                Scheduler(DEFAULT_PROFILE, policies).decide(fresh, spec, NOW)
        print(warm.row(size, "warm", placed))
        print(cold.row(size, "cold", placed))
        gc.unfreeze()
    print(f"load average at end:   {machine_load()}")


if __name__ == "__main__":
    main()
