"""The variables a policy expression sees: ``workload`` and ``cluster`` (see docs/policies.md).

Each variable is a CEL map whose fields are listed in :data:`WORKLOAD_FIELDS` and
:data:`CLUSTER_FIELDS` with a one-line description. :func:`cluster_facts` returns, per field,
a hashable key (for memoizing rule results) and the value handed to CEL, built once per
snapshot object and only for the fields some expression reads.
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


class Facts:
    """The fields of one variable for one object, each built on first use and then kept."""

    __slots__ = ("_builders", "_built", "_source")

    def __init__(
        self, source: object, builders: Mapping[str, tuple[str, Callable[[Any], Fact]]]
    ) -> None:
        self._source = source
        self._builders = builders
        self._built: dict[str, Fact] = {}

    def fact(self, name: str) -> Fact:
        """Return the memo key and CEL value of field ``name``."""
        built = self._built.get(name)
        if built is None:
            built = self._builders[name][1](self._source)
            self._built[name] = built
        return built

    def key(self, fields: tuple[str, ...] | None) -> tuple[object, ...]:
        """Return the memo key of ``fields`` (``None``: all fields)."""
        names = self._builders if fields is None else fields
        return tuple(self.fact(name)[0] for name in names)

    def values(self, fields: tuple[str, ...] | None) -> dict[str, object]:
        """Return the CEL map of ``fields`` (``None``: all fields)."""
        names = self._builders if fields is None else fields
        return {name: self.fact(name)[1] for name in names}


_cluster_cache: "weakref.WeakKeyDictionary[ClusterSnapshot, Facts]" = weakref.WeakKeyDictionary()
_workload_cache: "weakref.WeakKeyDictionary[WorkloadSpec, Facts]" = weakref.WeakKeyDictionary()


def cluster_facts(cluster: ClusterSnapshot) -> Facts:
    """Return the (lazily built) ``cluster`` fields of ``cluster``, one object per cluster."""
    facts = _cluster_cache.get(cluster)
    if facts is None:
        facts = Facts(cluster, CLUSTER_FIELDS)
        _cluster_cache[cluster] = facts
    return facts


def workload_facts(workload: WorkloadSpec) -> Facts:
    """Return the (lazily built) ``workload`` fields of ``workload``, one object per workload."""
    facts = _workload_cache.get(workload)
    if facts is None:
        facts = Facts(workload, WORKLOAD_FIELDS)
        _workload_cache[workload] = facts
    return facts
