"""The cost model (§3): what replicas cost on a cluster, in integer micro-units per hour.

Two views of the same price:

* **marginal** cost is what placing one more replica adds to the bill. IaaS clusters charge
  per resource-hour; on-prem capacity is prepaid, so its marginal cost is zero up to its size
  (the capacity filter refuses anything beyond). Placement choices ("cheapest first") and the
  optimizer use this view.
* **attributed** cost is what reports charge a workload. On IaaS it equals the marginal cost;
  on-prem the fixed monthly cost is shared by the workload's mean share of the cluster's
  CPU, memory and GPU capacity, so the shares of all workloads never exceed the whole.

Example::

    >>> hourly = replica_hour_cost(cluster, workload.requests)
    >>> estimate = placement_cost(snapshot, workload.requests, {"tokyo-1": 2, "aws-1": 1})
    >>> estimate.monthly
"""

from collections.abc import Mapping
from dataclasses import dataclass

from app.scheduling.types import (
    CPU,
    GIB,
    GPU,
    HOURS_PER_MONTH,
    MEMORY,
    ClusterKind,
    ClusterSnapshot,
    InventorySnapshot,
    Resources,
)

PRICE_UNITS: Mapping[str, int] = {CPU: 1000, MEMORY: GIB}
"""How many request units one priced unit holds: prices are per vCPU and per GiB; other
resources (GPUs) are priced per device."""

SHARED_RESOURCES = (CPU, MEMORY, GPU)
"""The resources whose capacity share attributes an on-prem cluster's fixed cost."""


def _rounded_div(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def replica_hour_cost(cluster: ClusterSnapshot, requests: Resources) -> int:
    """Return the marginal cost of one replica-hour on ``cluster``: 0 on-prem (prepaid)."""
    if cluster.kind is ClusterKind.ONPREM:
        return 0
    return usage_hour_cost(cluster, requests)


def usage_hour_cost(cluster: ClusterSnapshot, requests: Resources) -> int:
    """Return ``requests`` times the cluster's per-unit-hour prices, whatever its kind."""
    prices = cluster.price.per_unit_hour
    total = 0
    for resource, amount in requests.items():
        price = prices.get(resource, 0)
        if price:
            total += _rounded_div(amount * price, PRICE_UNITS.get(resource, 1))
    return total


def capacity_share(cluster: ClusterSnapshot, requests: Resources) -> float:
    """Return the mean share of the cluster's CPU, memory and GPU capacity ``requests`` take."""
    shares = [
        requests.amount(r) / cluster.capacity.amount(r)
        for r in SHARED_RESOURCES
        if cluster.capacity.amount(r) > 0
    ]
    return sum(shares) / len(shares) if shares else 0.0


def attributed_hour_cost(cluster: ClusterSnapshot, requests: Resources) -> int:
    """Return the reported cost of one replica-hour: fixed-cost share on-prem, price on IaaS."""
    if cluster.kind is ClusterKind.IAAS:
        return usage_hour_cost(cluster, requests)
    fixed_hourly = cluster.price.monthly_fixed / HOURS_PER_MONTH
    return round(fixed_hourly * capacity_share(cluster, requests)) + usage_hour_cost(
        cluster, requests
    )


@dataclass(frozen=True)
class CostEstimate:
    """Hourly and monthly cost of a placement, in micro-units of ``currency``.

    ``hourly``/``monthly`` are attributed (what reports will charge); ``marginal_hourly`` is
    what the placement adds to the bill (0 for prepaid on-prem capacity).
    """

    hourly: int
    marginal_hourly: int
    currency: str
    price_books: tuple[str, ...]

    @property
    def monthly(self) -> int:
        """The attributed cost over a 730-hour month."""
        return self.hourly * HOURS_PER_MONTH

    @property
    def marginal_monthly(self) -> int:
        """The marginal cost over a 730-hour month."""
        return self.marginal_hourly * HOURS_PER_MONTH

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form (money in micro-units)."""
        return {
            "hourly": self.hourly,
            "monthly": self.monthly,
            "marginalHourly": self.marginal_hourly,
            "marginalMonthly": self.marginal_monthly,
            "currency": self.currency,
            "priceBooks": list(self.price_books),
        }


def placement_cost(
    snapshot: InventorySnapshot, requests: Resources, assignment: Mapping[str, int]
) -> CostEstimate:
    """Price ``assignment`` (cluster name → replicas) of replicas that each request ``requests``."""
    clusters = snapshot.by_name()
    hourly = marginal = 0
    currencies: set[str] = set()
    books: set[str] = set()
    for name, replicas in assignment.items():
        if replicas <= 0:
            continue
        cluster = clusters[name]
        hourly += attributed_hour_cost(cluster, requests) * replicas
        marginal += replica_hour_cost(cluster, requests) * replicas
        currencies.add(cluster.price.currency)
        books.add(cluster.price.book)
    currency = ",".join(sorted(currencies))
    return CostEstimate(hourly, marginal, currency, tuple(sorted(books)))


def format_money(micros: int, currency: str) -> str:
    """Render micro-units for people: ``format_money(1_234_500, "USD") == "1.23 USD"``."""
    sign = "-" if micros < 0 else ""
    cents = _rounded_div(abs(micros), 10_000)
    return f"{sign}{cents // 100}.{cents % 100:02d} {currency}".rstrip()
