"""The inventory as the scheduler sees it, built from the database at one moment.

Each cluster's ``allocated`` is what Placer's desired placements request there (replicas times
each workload's per-replica demand, one pod included) plus what pods Placer does not manage
request (``allocated_external``, written by the inventory sync); its price is the version of
its price book in effect at ``now``, in integer micro-units. A cluster without a price book is
priced at zero in no currency (``UNPRICED``): it is chosen on capacity and policy alone, and
decisions and workload reads say its cost is unknown (:mod:`app.workloads.documents`).

Example::

    inventory = await load_inventory(session, now)
    decision = scheduler.decide(inventory.snapshot, workload, now)
    cluster_id = inventory.cluster_ids["tokyo-1"]
"""

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from app.kubetypes import Taint
from app.placements.repository import InventoryRepository
from app.pricebooks.schemas import EffectivePricing
from app.pricebooks.service import PriceBookService
from app.scheduling.serialization import snapshot_to_dict, workload_from_dict
from app.scheduling.types import (
    CPU,
    GPU,
    MEMORY,
    MICROS,
    ClusterKind,
    ClusterSnapshot,
    ClusterState,
    InventorySnapshot,
    Price,
    Resources,
    WorkloadSpec,
)

UNPRICED = Price(currency="", book="")
"""The price of a cluster without a price book."""


@dataclass(frozen=True)
class Inventory:
    """A snapshot plus what is needed to store a decision made over it.

    ``cluster_ids`` maps cluster names to their rows; ``placements`` maps placed workloads'
    ids to their desired placement (cluster name → replicas); ``price_book_versions`` names,
    per price book, the version the snapshot priced with.
    """

    snapshot: InventorySnapshot
    cluster_ids: Mapping[str, uuid.UUID]
    placements: Mapping[uuid.UUID, Mapping[str, int]]
    price_book_versions: Mapping[str, int]

    @cached_property
    def snapshot_document(self) -> dict[str, Any]:
        """The snapshot's JSON form, built once: every decision over it stores it."""
        return snapshot_to_dict(self.snapshot)

    def current_of(self, workload_id: uuid.UUID) -> Mapping[str, int]:
        """Where the workload is placed now: cluster name → replicas (empty if nowhere)."""
        return self.placements.get(workload_id, {})


def micros(amount: Decimal) -> int:
    """An amount of money in integer micro-units (rounded half to even below a micro-unit)."""
    return int((amount * MICROS).to_integral_value())


def price_of(pricing: EffectivePricing) -> Price:
    """The core's form of a price book version."""
    book = f"{pricing.price_book}@{pricing.version}"
    if pricing.kind == "onprem":
        fixed = pricing.monthly_fixed_cost or Decimal(0)
        return Price.onprem(currency=pricing.currency, book=book, monthly_fixed=micros(fixed))
    rates = pricing.rates
    per_unit: dict[str, int] = {}
    if rates is not None:
        per_unit = {CPU: micros(rates.cpu_per_vcpu_hour), MEMORY: micros(rates.memory_per_gib_hour)}
        if rates.gpu_per_gpu_hour is not None:
            per_unit[GPU] = micros(rates.gpu_per_gpu_hour)
    return Price.iaas(currency=pricing.currency, book=book, per_unit_hour=per_unit)


def cluster_snapshot(cluster: Row[Any], price: Price, allocated: Resources) -> ClusterSnapshot:
    """One stored cluster (a row of ``SNAPSHOT_COLUMNS``) as the scheduler sees it."""
    return ClusterSnapshot(
        name=cluster.name,
        kind=ClusterKind(cluster.kind),
        provider=cluster.provider,
        region=cluster.region,
        country=cluster.country,
        price=price,
        zones=tuple(cluster.zones),
        jurisdictions=frozenset(cluster.jurisdictions),
        labels=cluster.labels,
        taints=tuple(Taint.from_spec(taint) for taint in cluster.taints),
        state=ClusterState(cluster.state),
        capacity=Resources(cluster.capacity),
        allocated=allocated,
    )


def _content(cluster: Row[Any]) -> tuple[object, ...]:
    """Everything of a cluster row a snapshot reads, as a hashable value."""
    return (
        cluster.id,
        cluster.name,
        cluster.kind,
        cluster.provider,
        cluster.region,
        cluster.country,
        tuple(cluster.zones),
        tuple(cluster.jurisdictions),
        frozenset(cluster.labels.items()),
        tuple(tuple(sorted(taint.items())) for taint in cluster.taints),
        cluster.state,
        frozenset(cluster.capacity.items()),
    )


class _LastBuild:
    """What the previous call in this process built, reused while the database holds the same.

    The scheduler memoizes policy verdicts per cluster object and filter results per snapshot
    object, so handing it the same objects for the same content turns a cold decision into a
    warm one, and reading one digest costs a fraction of reading the rows. The whole
    inventory is reused when the database's fingerprint is unchanged; after a change, each
    cluster whose content (row, use and price) is unchanged keeps its object.
    """

    def __init__(self) -> None:
        self.key: str | None = None
        self.inventory: Inventory | None = None
        self.clusters: dict[tuple[object, ...], ClusterSnapshot] = {}
        self.specs: dict[tuple[uuid.UUID, int], WorkloadSpec] = {}


_last = _LastBuild()


async def load_inventory(session: AsyncSession, now: datetime) -> Inventory:
    """Read clusters, prices in effect at ``now`` and desired placements into one snapshot.

    When nothing changed since the previous call, the previous snapshot is returned (its
    ``taken_at`` is when that content was first read).
    """
    repository = InventoryRepository(session)
    fingerprint = await repository.fingerprint(now)
    if fingerprint == _last.key and _last.inventory is not None:
        return _last.inventory
    clusters = await repository.clusters()
    placed = await repository.placements()
    pricing = await PriceBookService(session).pricing_for(
        {c.price_book_id for c in clusters if c.price_book_id is not None}, at=now
    )
    prices: dict[uuid.UUID, tuple[int, Price]] = {}
    versions: dict[str, int] = {}
    for book_id, book in pricing.items():
        if book.pricing is not None:
            prices[book_id] = (book.pricing.version, price_of(book.pricing))
            versions[book.name] = book.pricing.version

    contents = [_content(cluster) for cluster in clusters]
    external = [Resources(cluster.allocated_external) for cluster in clusters]
    book_prices = [
        prices.get(c.price_book_id) if c.price_book_id is not None else None for c in clusters
    ]
    priced = [
        (c.price_book_id, entry[0]) if entry is not None else None
        for c, entry in zip(clusters, book_prices, strict=True)
    ]
    names = {cluster.id: cluster.name for cluster in clusters}
    specs: dict[uuid.UUID, WorkloadSpec] = {}
    current: defaultdict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    allocated: dict[uuid.UUID, Resources] = defaultdict(Resources)
    for row in placed:
        spec = specs.get(row.workload_id)
        if spec is None:
            spec = _last.specs.get((row.workload_id, row.version))
            if spec is None:
                spec = workload_from_dict(row.spec)
            specs[row.workload_id] = spec
        current[row.workload_id][names[row.cluster_id]] = row.replicas
        allocated[row.cluster_id] += spec.replica_demand.times(row.replicas)

    built: dict[tuple[object, ...], ClusterSnapshot] = {}
    for cluster, content, used_outside, price_key, entry in zip(
        clusters, contents, external, priced, book_prices, strict=True
    ):
        in_use = allocated.get(cluster.id, Resources()) + used_outside
        cluster_key = (content, in_use, price_key)
        snapshot_of_cluster = _last.clusters.get(cluster_key)
        if snapshot_of_cluster is None:
            price = entry[1] if entry is not None else UNPRICED
            snapshot_of_cluster = cluster_snapshot(cluster, price, in_use)
        built[cluster_key] = snapshot_of_cluster

    inventory = Inventory(
        snapshot=InventorySnapshot(
            clusters=tuple(built.values()),
            workloads=tuple(
                replace(spec, current=current[workload_id]) for workload_id, spec in specs.items()
            ),
            taken_at=now,
        ),
        cluster_ids={cluster.name: cluster.id for cluster in clusters},
        placements=current,
        price_book_versions=versions,
    )
    _last.clusters = built
    _last.specs = {(r.workload_id, r.version): specs[r.workload_id] for r in placed}
    # The rows were read by later statements than the fingerprint: keep the build for reuse
    # only if nothing changed in between.
    if await repository.fingerprint(now) == fingerprint:
        _last.key, _last.inventory = fingerprint, inventory
    return inventory
