"""The variables a policy expression sees: ``workload`` and ``cluster`` (see docs/policies.md).

Each variable is a CEL map whose fields are listed in :data:`WORKLOAD_FIELDS` and
:data:`CLUSTER_FIELDS` with a one-line description. Facts are computed once per snapshot
object and reused: :func:`cluster_facts` returns, per field, a hashable key (for memoizing
rule results) and the value handed to CEL.
"""

import weakref
from collections.abc import Callable, Mapping
from typing import Any

from app.scheduling.types import ClusterSnapshot, Resources, WorkloadSpec

Fact = tuple[object, object]
"""A field's hashable memo key and its CEL value."""


def _map(mapping: Mapping[str, Any]) -> Fact:
    return frozenset(mapping.items()), dict(mapping)


def _resources(resources: Resources) -> Fact:
    return resources, resources.to_dict()


def _list(items: tuple[str, ...]) -> Fact:
    return items, list(items)


def _scalar(value: str | int) -> Fact:
    return value, value


CLUSTER_FIELDS: Mapping[str, tuple[str, Callable[[ClusterSnapshot], Fact]]] = {
    "name": ("string: the cluster's unique name", lambda c: _scalar(c.name)),
    "kind": ('string: "iaas" or "onprem"', lambda c: _scalar(str(c.kind))),
    "provider": ('string: e.g. "aws", "dc-tokyo-1"', lambda c: _scalar(c.provider)),
    "region": ("string: the provider's region", lambda c: _scalar(c.region)),
    "zones": ("list(string): availability zones", lambda c: _list(c.zones)),
    "country": ('string: ISO 3166-1 alpha-2, e.g. "JP"', lambda c: _scalar(c.country)),
    "jurisdictions": (
        'list(string): e.g. ["EU", "EEA"], sorted',
        lambda c: _list(tuple(sorted(c.jurisdictions))),
    ),
    "labels": ("map(string, string): Kubernetes labels", lambda c: _map(c.labels)),
    "taints": (
        'list(map): each {"key", "value", "effect"}',
        lambda c: (c.taints, [t.to_spec() for t in c.taints]),
    ),
    "state": (
        'string: "Ready", "Cordoned", "Draining" or "Unreachable"',
        lambda c: _scalar(str(c.state)),
    ),
    "capacity": (
        "map(string, int): capacity per resource (millicores, bytes, counts)",
        lambda c: _resources(c.capacity),
    ),
    "allocated": (
        "map(string, int): amount already requested per resource",
        lambda c: _resources(c.allocated),
    ),
    "currency": ("string: the price book's currency", lambda c: _scalar(c.price.currency)),
}
"""The fields of ``cluster``: name → (description, fact builder)."""

WORKLOAD_FIELDS: Mapping[str, tuple[str, Callable[[WorkloadSpec], Fact]]] = {
    "name": ("string: the workload's name", lambda w: _scalar(w.name)),
    "namespace": ("string: its Kubernetes namespace", lambda w: _scalar(w.namespace)),
    "team": ("string: the owning team", lambda w: _scalar(w.team)),
    "labels": (
        'map(string, string): labels, e.g. labels["data-class"]',
        lambda w: _map(w.labels),
    ),
    "replicas": ("int: desired replicas", lambda w: _scalar(w.replicas)),
    "requests": (
        "map(string, int): per-replica requests (millicores, bytes, counts)",
        lambda w: _resources(w.requests),
    ),
    "strategy": (
        'string: "single", "spread", "divided" or "duplicated"',
        lambda w: _scalar(str(w.placement.strategy)),
    ),
}
"""The fields of ``workload``: name → (description, fact builder)."""

_cluster_cache: "weakref.WeakKeyDictionary[ClusterSnapshot, dict[str, Fact]]" = (
    weakref.WeakKeyDictionary()
)
_workload_cache: "weakref.WeakKeyDictionary[WorkloadSpec, dict[str, Fact]]" = (
    weakref.WeakKeyDictionary()
)


def cluster_facts(cluster: ClusterSnapshot) -> dict[str, Fact]:
    """Return every ``cluster`` field's memo key and CEL value, computed once per object."""
    facts = _cluster_cache.get(cluster)
    if facts is None:
        facts = {name: build(cluster) for name, (_, build) in CLUSTER_FIELDS.items()}
        _cluster_cache[cluster] = facts
    return facts


def workload_facts(workload: WorkloadSpec) -> dict[str, Fact]:
    """Return every ``workload`` field's memo key and CEL value, computed once per object."""
    facts = _workload_cache.get(workload)
    if facts is None:
        facts = {name: build(workload) for name, (_, build) in WORKLOAD_FIELDS.items()}
        _workload_cache[workload] = facts
    return facts
