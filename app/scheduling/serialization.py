"""JSON forms of the snapshot types, so a decision can be stored and replayed.

``*_to_dict`` functions return plain JSON-ready dicts (camelCase keys, integers for amounts
and money); the matching ``*_from_dict`` functions rebuild equal objects.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.kubetypes.labels import LabelSelector
from app.kubetypes.taints import Taint, Toleration
from app.scheduling.types import (
    AffinityTerm,
    ClusterKind,
    ClusterSnapshot,
    ClusterState,
    DivideBy,
    InventorySnapshot,
    PlacementSpec,
    Price,
    Resources,
    SpreadBy,
    Strategy,
    WorkloadSpec,
)


def cluster_to_dict(cluster: ClusterSnapshot) -> dict[str, Any]:
    """Return the JSON form of a cluster."""
    return {
        "name": cluster.name,
        "kind": str(cluster.kind),
        "provider": cluster.provider,
        "region": cluster.region,
        "zones": list(cluster.zones),
        "country": cluster.country,
        "jurisdictions": sorted(cluster.jurisdictions),
        "labels": dict(sorted(cluster.labels.items())),
        "taints": [t.to_spec() for t in cluster.taints],
        "state": str(cluster.state),
        "capacity": cluster.capacity.to_dict(),
        "allocated": cluster.allocated.to_dict(),
        "price": cluster.price.to_dict(),
    }


def cluster_from_dict(data: Mapping[str, Any]) -> ClusterSnapshot:
    """Inverse of :func:`cluster_to_dict`."""
    return ClusterSnapshot(
        name=data["name"],
        kind=ClusterKind(data["kind"]),
        provider=data["provider"],
        region=data["region"],
        country=data["country"],
        price=Price.from_dict(data["price"]),
        zones=tuple(data["zones"]),
        jurisdictions=frozenset(data["jurisdictions"]),
        labels=data["labels"],
        taints=tuple(Taint.from_spec(t) for t in data["taints"]),
        state=ClusterState(data["state"]),
        capacity=Resources(data["capacity"]),
        allocated=Resources(data["allocated"]),
    )


def _term_to_dict(term: AffinityTerm) -> dict[str, Any]:
    return {
        "selector": term.selector.to_spec(),
        "weight": term.weight,
        "namespaces": list(term.namespaces),
    }


def _term_from_dict(data: Mapping[str, Any]) -> AffinityTerm:
    return AffinityTerm(
        LabelSelector.from_spec(data["selector"]), data["weight"], tuple(data["namespaces"])
    )


def placement_to_dict(placement: PlacementSpec) -> dict[str, Any]:
    """Return the JSON form of a placement intent."""
    selector = placement.cluster_selector
    return {
        "strategy": str(placement.strategy),
        "minSpread": placement.min_spread,
        "spreadBy": str(placement.spread_by),
        "divideBy": str(placement.divide_by),
        "weights": dict(sorted(placement.weights.items())),
        "copies": placement.copies,
        "clusterSelector": None if selector is None else selector.to_spec(),
        "tolerations": [t.to_spec() for t in placement.tolerations],
        "affinity": [_term_to_dict(t) for t in placement.affinity],
        "antiAffinity": [_term_to_dict(t) for t in placement.anti_affinity],
        "maxHourlyCost": placement.max_hourly_cost,
    }


def placement_from_dict(data: Mapping[str, Any]) -> PlacementSpec:
    """Inverse of :func:`placement_to_dict`."""
    selector = data["clusterSelector"]
    return PlacementSpec(
        strategy=Strategy(data["strategy"]),
        min_spread=data["minSpread"],
        spread_by=SpreadBy(data["spreadBy"]),
        divide_by=DivideBy(data["divideBy"]),
        weights=data["weights"],
        copies=data["copies"],
        cluster_selector=None if selector is None else LabelSelector.from_spec(selector),
        tolerations=tuple(Toleration.from_spec(t) for t in data["tolerations"]),
        affinity=tuple(_term_from_dict(t) for t in data["affinity"]),
        anti_affinity=tuple(_term_from_dict(t) for t in data["antiAffinity"]),
        max_hourly_cost=data["maxHourlyCost"],
    )


def workload_to_dict(workload: WorkloadSpec) -> dict[str, Any]:
    """Return the JSON form of a workload."""
    return {
        "name": workload.name,
        "namespace": workload.namespace,
        "team": workload.team,
        "replicas": workload.replicas,
        "requests": workload.requests.to_dict(),
        "labels": dict(sorted(workload.labels.items())),
        "placement": placement_to_dict(workload.placement),
        "current": dict(sorted(workload.current.items())),
    }


def workload_from_dict(data: Mapping[str, Any]) -> WorkloadSpec:
    """Inverse of :func:`workload_to_dict`."""
    return WorkloadSpec(
        name=data["name"],
        namespace=data["namespace"],
        team=data["team"],
        replicas=data["replicas"],
        requests=Resources(data["requests"]),
        labels=data["labels"],
        placement=placement_from_dict(data["placement"]),
        current=data["current"],
    )


def snapshot_to_dict(snapshot: InventorySnapshot) -> dict[str, Any]:
    """Return the JSON form of an inventory snapshot."""
    return {
        "takenAt": None if snapshot.taken_at is None else snapshot.taken_at.isoformat(),
        "clusters": [cluster_to_dict(c) for c in snapshot.clusters],
        "workloads": [workload_to_dict(w) for w in snapshot.workloads],
    }


def snapshot_from_dict(data: Mapping[str, Any]) -> InventorySnapshot:
    """Inverse of :func:`snapshot_to_dict`."""
    taken_at = data.get("takenAt")
    return InventorySnapshot(
        clusters=tuple(cluster_from_dict(c) for c in data["clusters"]),
        workloads=tuple(workload_from_dict(w) for w in data["workloads"]),
        taken_at=None if taken_at is None else datetime.fromisoformat(taken_at),
    )
