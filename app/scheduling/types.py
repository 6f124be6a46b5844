"""Immutable snapshots the scheduler decides over: clusters, workloads and the inventory.

Everything here is plain data: integers for resources (millicores, bytes, counts) and for money
(micro-units of the price book's currency), tuples and read-only mappings for collections. A
decision reads only these objects, so a stored snapshot replays to the same decision.

Example::

    cluster = ClusterSnapshot(
        name="tokyo-1", kind=ClusterKind.ONPREM, provider="dc-tokyo-1", region="tokyo",
        country="JP", jurisdictions=frozenset({"JP"}),
        capacity=Resources({"cpu": 64_000, "memory": 256 * GIB}),
        price=Price.onprem(currency="JPY", book="dc-tokyo-1@3", monthly_fixed=900_000 * MICROS),
    )
"""

from collections.abc import ItemsView, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from app.kubetypes.labels import LabelSelector
from app.kubetypes.taints import Taint, Toleration

CPU = "cpu"
MEMORY = "memory"
GPU = "nvidia.com/gpu"
PODS = "pods"
GIB = 2**30
MICROS = 1_000_000
"""Micro-units per unit of currency: all money is an integer count of micro-units."""
HOURS_PER_MONTH = 730
"""Hours in the month used by every monthly figure (§3)."""


class ClusterKind(StrEnum):
    """How a cluster's capacity is paid for: by the hour (``iaas``) or up front (``onprem``)."""

    IAAS = "iaas"
    ONPREM = "onprem"


class ClusterState(StrEnum):
    """Lifecycle state; only ``Ready`` clusters accept new replicas."""

    READY = "Ready"
    CORDONED = "Cordoned"
    DRAINING = "Draining"
    UNREACHABLE = "Unreachable"


class Strategy(StrEnum):
    """How a workload's replicas are laid out over clusters (§5)."""

    SINGLE = "single"
    SPREAD = "spread"
    DIVIDED = "divided"
    DUPLICATED = "duplicated"


class SpreadBy(StrEnum):
    """What a ``spread`` workload counts: distinct clusters or distinct zones."""

    CLUSTER = "cluster"
    ZONE = "zone"


class DivideBy(StrEnum):
    """How a ``divided`` workload splits replicas: by free capacity or by static weights."""

    CAPACITY = "capacity"
    WEIGHTS = "weights"


def freeze(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """Return a read-only copy of ``mapping`` (empty for ``None``)."""
    return MappingProxyType(dict(mapping or {}))


class Resources(Mapping[str, int]):
    """Immutable integer amounts per resource name; a missing resource reads as 0 via ``get``.

    Arithmetic keeps only non-zero entries, so ``Resources({"cpu": 0}) == Resources()``.
    """

    __slots__ = ("_amounts", "_hash")

    def __init__(self, amounts: Mapping[str, int] | Iterable[tuple[str, int]] = ()) -> None:
        items = amounts.items() if isinstance(amounts, Mapping) else amounts
        self._amounts: dict[str, int] = {name: int(v) for name, v in items if v}
        self._hash: int | None = None

    def __getitem__(self, name: str) -> int:
        return self._amounts[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._amounts)

    def __len__(self) -> int:
        return len(self._amounts)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._amounts.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Resources):
            return self._amounts == other._amounts
        return NotImplemented

    def __repr__(self) -> str:
        return f"Resources({self._amounts!r})"

    # The Mapping mixins go through __iter__ and __getitem__ one key at a time; plugins call
    # these per cluster and per decision, so they delegate to the dict directly.
    def __contains__(self, name: object) -> bool:
        return name in self._amounts

    def items(self) -> ItemsView[str, int]:
        """Return the (resource, amount) pairs."""
        return self._amounts.items()

    def amount(self, name: str) -> int:
        """Return the amount of ``name``, 0 when absent."""
        return self._amounts.get(name, 0)

    def __add__(self, other: "Resources") -> "Resources":
        names = self._amounts.keys() | other._amounts.keys()
        return Resources({n: self.amount(n) + other.amount(n) for n in names})

    def __sub__(self, other: "Resources") -> "Resources":
        names = self._amounts.keys() | other._amounts.keys()
        return Resources({n: self.amount(n) - other.amount(n) for n in names})

    def times(self, count: int) -> "Resources":
        """Return these amounts multiplied by ``count`` (requests for n replicas)."""
        return Resources({n: v * count for n, v in self._amounts.items()})

    def to_dict(self) -> dict[str, int]:
        """Return a plain, name-sorted dict (the JSON form)."""
        return dict(sorted(self._amounts.items()))


@dataclass(frozen=True)
class Price:
    """What a cluster costs, in integer micro-units of ``currency``, from price book ``book``.

    IaaS clusters set ``per_unit_hour`` (per vCPU-hour for ``cpu``, per GiB-hour for
    ``memory``, per device-hour for other resources). On-prem clusters set ``monthly_fixed``
    and may set ``per_unit_hour`` to 0: their capacity is prepaid (§3).
    """

    currency: str
    book: str
    per_unit_hour: Mapping[str, int] = field(default_factory=lambda: freeze(None))
    monthly_fixed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "per_unit_hour", freeze(self.per_unit_hour))

    @classmethod
    def iaas(cls, *, currency: str, book: str, per_unit_hour: Mapping[str, int]) -> "Price":
        """Build a pay-per-use price."""
        return cls(currency=currency, book=book, per_unit_hour=per_unit_hour)

    @classmethod
    def onprem(cls, *, currency: str, book: str, monthly_fixed: int) -> "Price":
        """Build a prepaid price with a fixed monthly cost."""
        return cls(currency=currency, book=book, monthly_fixed=monthly_fixed)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "currency": self.currency,
            "book": self.book,
            "perUnitHour": dict(sorted(self.per_unit_hour.items())),
            "monthlyFixed": self.monthly_fixed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Price":
        """Inverse of :meth:`to_dict`."""
        return cls(
            currency=data["currency"],
            book=data["book"],
            per_unit_hour=data.get("perUnitHour", {}),
            monthly_fixed=data.get("monthlyFixed", 0),
        )


@dataclass(frozen=True, eq=False)
class ClusterSnapshot:
    """One cluster as the scheduler sees it at decision time.

    ``allocated`` is what is already requested there (by every placed workload); ``free`` is
    what is left. A resource the cluster does not declare has zero capacity, except ``pods``,
    which is unlimited when undeclared. Compared by identity: build a new one to change it.
    """

    name: str
    kind: ClusterKind
    provider: str
    region: str
    country: str
    price: Price
    zones: tuple[str, ...] = ()
    jurisdictions: frozenset[str] = frozenset()
    labels: Mapping[str, str] = field(default_factory=lambda: freeze(None))
    taints: tuple[Taint, ...] = ()
    state: ClusterState = ClusterState.READY
    capacity: Resources = field(default_factory=Resources)
    allocated: Resources = field(default_factory=Resources)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", freeze(self.labels))
        object.__setattr__(self, "zones", tuple(self.zones))
        object.__setattr__(self, "jurisdictions", frozenset(self.jurisdictions))
        object.__setattr__(self, "taints", tuple(self.taints))

    def free(self, resource: str) -> int:
        """Return the unrequested amount of ``resource`` (negative when overcommitted)."""
        return self.free_amounts().get(resource, 0)

    def free_amounts(self) -> Mapping[str, int]:
        """Return the unrequested amount of every resource declared or allocated here, and
        of ``pods`` (computed once: capacity checks read it for every decision)."""
        cached: Mapping[str, int] | None = self.__dict__.get("_free")
        if cached is None:
            names = self.capacity.keys() | self.allocated.keys()
            amounts = {n: self.capacity.amount(n) - self.allocated.amount(n) for n in names}
            if PODS not in self.capacity:
                amounts[PODS] = 2**62
            cached = MappingProxyType(amounts)
            self.__dict__["_free"] = cached
        return cached

    def with_allocated(self, allocated: Resources) -> "ClusterSnapshot":
        """Return a copy with a different ``allocated``."""
        return replace(self, allocated=allocated)


@dataclass(frozen=True)
class AffinityTerm:
    """Co-location with other workloads whose labels match ``selector`` (per cluster).

    ``weight`` ``None`` makes the term required (a filter); a weight of 1-100 makes it a
    preference (a score). ``namespaces`` empty means the workload's own namespace; ``("*",)``
    means every namespace.
    """

    selector: LabelSelector
    weight: int | None = None
    namespaces: tuple[str, ...] = ()

    def applies_to(self, owner_namespace: str, other: "WorkloadSpec") -> bool:
        """Return whether ``other`` is one of the workloads this term is about."""
        if "*" in self.namespaces:
            in_scope = True
        else:
            in_scope = other.namespace in (self.namespaces or (owner_namespace,))
        return in_scope and self.selector.matches(other.labels)


@dataclass(frozen=True)
class PlacementSpec:
    """A workload's placement intent (§5).

    ``min_spread`` is N for ``spread`` (distinct clusters or zones, per ``spread_by``);
    ``copies`` is N for ``duplicated``; ``weights`` maps cluster names to static weights for
    ``divided`` by ``weights``. ``max_hourly_cost`` caps the whole workload, in micro-units.
    """

    strategy: Strategy = Strategy.SINGLE
    min_spread: int = 1
    spread_by: SpreadBy = SpreadBy.CLUSTER
    divide_by: DivideBy = DivideBy.CAPACITY
    weights: Mapping[str, int] = field(default_factory=lambda: freeze(None))
    copies: int = 1
    cluster_selector: LabelSelector | None = None
    tolerations: tuple[Toleration, ...] = ()
    affinity: tuple[AffinityTerm, ...] = ()
    anti_affinity: tuple[AffinityTerm, ...] = ()
    max_hourly_cost: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", freeze(self.weights))
        object.__setattr__(self, "tolerations", tuple(self.tolerations))
        object.__setattr__(self, "affinity", tuple(self.affinity))
        object.__setattr__(self, "anti_affinity", tuple(self.anti_affinity))


@dataclass(frozen=True, eq=False)
class WorkloadSpec:
    """A workload to place, or one already placed (``current``: cluster name → replicas).

    ``requests`` is per replica. Every replica also takes one pod (see :meth:`replica_demand`).
    """

    name: str
    namespace: str
    team: str
    replicas: int
    requests: Resources
    labels: Mapping[str, str] = field(default_factory=lambda: freeze(None))
    placement: PlacementSpec = field(default_factory=PlacementSpec)
    current: Mapping[str, int] = field(default_factory=lambda: freeze(None))

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", freeze(self.labels))
        object.__setattr__(self, "current", freeze(self.current))

    @property
    def key(self) -> str:
        """``namespace/name``: unique among workloads."""
        return f"{self.namespace}/{self.name}"

    @property
    def replica_demand(self) -> Resources:
        """What one replica consumes on a cluster: its requests plus one pod."""
        if self.requests.amount(PODS):
            return self.requests
        return self.requests + Resources({PODS: 1})


Workload = WorkloadSpec
"""Alias: the scheduler's name for a workload is its spec."""


@dataclass(frozen=True, eq=False)
class InventorySnapshot:
    """Everything a decision may read: the clusters and the workloads already placed.

    ``workloads`` feeds affinity and budgets; each one's usage is already in its clusters'
    ``allocated``.
    """

    clusters: tuple[ClusterSnapshot, ...]
    workloads: tuple[WorkloadSpec, ...] = ()
    taken_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "clusters", tuple(self.clusters))
        object.__setattr__(self, "workloads", tuple(self.workloads))

    def cluster(self, name: str) -> ClusterSnapshot:
        """Return the cluster called ``name`` (``KeyError`` if absent)."""
        return self.by_name()[name]

    def by_name(self) -> Mapping[str, ClusterSnapshot]:
        """Return the clusters keyed by name (computed once)."""
        cached: Mapping[str, ClusterSnapshot] | None = self.__dict__.get("_by_name")
        if cached is None:
            cached = {c.name: c for c in self.clusters}
            self.__dict__["_by_name"] = cached
        return cached

    def with_placement(
        self, workload: WorkloadSpec, assignment: Mapping[str, int]
    ) -> "InventorySnapshot":
        """Return the snapshot after ``workload`` moves to ``assignment`` (cluster → replicas).

        Its previous placement (``workload.current``) is released, the new one allocated, and
        the workload recorded among ``workloads`` with ``current = assignment``.
        """
        demand = workload.replica_demand
        delta: dict[str, int] = {}
        for name, count in workload.current.items():
            delta[name] = delta.get(name, 0) - count
        for name, count in assignment.items():
            delta[name] = delta.get(name, 0) + count
        clusters = tuple(
            c.with_allocated(c.allocated + demand.times(delta[c.name])) if delta.get(c.name) else c
            for c in self.clusters
        )
        placed = replace(workload, current={n: r for n, r in assignment.items() if r})
        others = tuple(w for w in self.workloads if w.key != workload.key)
        return InventorySnapshot(clusters, (*others, placed), self.taken_at)
