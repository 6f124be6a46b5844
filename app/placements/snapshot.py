"""The inventory as the scheduler sees it, built from the database at one moment.

Each cluster's ``allocated`` is what Placer's desired placements request there (replicas times
each workload's per-replica demand, one pod included) plus what pods Placer does not manage
request (``allocated_external``, written by the inventory sync); its price is the version of
its price book in effect at ``now``, in integer micro-units. A cluster without a price book is
priced at zero in no currency: it is chosen on capacity and policy alone.

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

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Cluster
from app.kubetypes import Taint
from app.placements.repository import InventoryRepository
from app.pricebooks.schemas import EffectivePricing
from app.pricebooks.service import PriceBookService
from app.scheduling.serialization import workload_from_dict
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


def cluster_snapshot(cluster: Cluster, price: Price, allocated: Resources) -> ClusterSnapshot:
    """One stored cluster as the scheduler sees it."""
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


async def load_inventory(session: AsyncSession, now: datetime) -> Inventory:
    """Read clusters, prices in effect at ``now`` and desired placements into one snapshot."""
    repository = InventoryRepository(session)
    clusters = await repository.clusters()
    placed = await repository.placements()
    names = {cluster.id: cluster.name for cluster in clusters}
    pricing = await PriceBookService(session).pricing_for(
        {c.price_book_id for c in clusters if c.price_book_id is not None}, at=now
    )
    prices: dict[uuid.UUID, Price] = {}
    versions: dict[str, int] = {}
    for book_id, book in pricing.items():
        if book.pricing is not None:
            prices[book_id] = price_of(book.pricing)
            versions[book.name] = book.pricing.version

    specs: dict[uuid.UUID, WorkloadSpec] = {}
    current: defaultdict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    allocated: dict[uuid.UUID, Resources] = defaultdict(Resources)
    for row in placed:
        spec = specs.get(row.workload_id)
        if spec is None:
            spec = specs[row.workload_id] = workload_from_dict(row.spec)
        current[row.workload_id][names[row.cluster_id]] = row.replicas
        allocated[row.cluster_id] += spec.replica_demand.times(row.replicas)

    snapshot = InventorySnapshot(
        clusters=tuple(
            cluster_snapshot(
                cluster,
                prices.get(cluster.price_book_id, UNPRICED) if cluster.price_book_id else UNPRICED,
                allocated.get(cluster.id, Resources()) + Resources(cluster.allocated_external),
            )
            for cluster in clusters
        ),
        workloads=tuple(
            replace(spec, current=current[workload_id]) for workload_id, spec in specs.items()
        ),
        taken_at=now,
    )
    return Inventory(
        snapshot=snapshot,
        cluster_ids={cluster.name: cluster.id for cluster in clusters},
        placements=current,
        price_book_versions=versions,
    )
