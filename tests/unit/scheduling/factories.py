"""Builders for clusters, workloads and snapshots used by the scheduling tests and benchmark."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from app.scheduling.types import (
    CPU,
    GIB,
    MEMORY,
    MICROS,
    ClusterKind,
    ClusterSnapshot,
    InventorySnapshot,
    PlacementSpec,
    Price,
    Resources,
    WorkloadSpec,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
JURISDICTIONS = {"JP": {"JP"}, "DE": {"EU", "EEA"}, "FR": {"EU", "EEA"}, "US": {"US"}}


def iaas_price(cpu_hour: float = 0.04, gib_hour: float = 0.005) -> Price:
    """A pay-per-use price in USD (per vCPU-hour and per GiB-hour)."""
    return Price.iaas(
        currency="USD",
        book="test-iaas@1",
        per_unit_hour={CPU: int(cpu_hour * MICROS), MEMORY: int(gib_hour * MICROS)},
    )


def onprem_price(monthly: int = 20_000) -> Price:
    """A prepaid price in USD with a fixed monthly cost."""
    return Price.onprem(currency="USD", book="test-onprem@1", monthly_fixed=monthly * MICROS)


def cluster(name: str, **overrides: Any) -> ClusterSnapshot:
    """A Ready IaaS cluster in Japan with 64 CPU and 256Gi free, unless overridden."""
    kind = overrides.pop("kind", ClusterKind.IAAS)
    country = overrides.pop("country", "JP")
    fields: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "provider": "dc-1" if kind is ClusterKind.ONPREM else "aws",
        "region": "ap-northeast-1",
        "country": country,
        "jurisdictions": frozenset(JURISDICTIONS.get(country, {country})),
        "zones": (f"{name}-a",),
        "capacity": Resources({CPU: 64_000, MEMORY: 256 * GIB}),
        "price": onprem_price() if kind is ClusterKind.ONPREM else iaas_price(),
    }
    fields.update(overrides)
    return ClusterSnapshot(**fields)


def workload(name: str = "web", **overrides: Any) -> WorkloadSpec:
    """A 3-replica ``single`` workload requesting 1 CPU and 2Gi per replica."""
    placement = overrides.pop("placement", None)
    if placement is None:
        placement = PlacementSpec(**overrides.pop("placement_fields", {}))
    fields: dict[str, Any] = {
        "name": name,
        "namespace": "default",
        "team": "payments",
        "replicas": 3,
        "requests": Resources({CPU: 1000, MEMORY: 2 * GIB}),
        "placement": placement,
    }
    fields.update(overrides)
    return WorkloadSpec(**fields)


def snapshot(
    *clusters: ClusterSnapshot, workloads: tuple[WorkloadSpec, ...] = ()
) -> InventorySnapshot:
    """An inventory of ``clusters`` and already-placed ``workloads``."""
    return InventorySnapshot(clusters, workloads, NOW)


def requests(cpu: int, memory_gib: int = 0, **others: int) -> Mapping[str, int]:
    """Per-replica requests: ``cpu`` in millicores, memory in GiB."""
    return Resources({CPU: cpu, MEMORY: memory_gib * GIB, **others})
