"""A sample inventory: IaaS clusters in four countries, two on-prem clusters, their price books.

Loaded by ``placer serve --seed-sample-data`` only into an empty inventory, through the same
services as the API, so it is validated and audited like any change (actor ``system:seed``).
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.auth.principal import Principal
from app.clusters.repository import ClusterRepository
from app.clusters.schemas import ClusterCreate
from app.clusters.service import ClusterPolicy, ClusterService
from app.db.base import utcnow
from app.db.session import Database
from app.pricebooks.repository import PriceBookRepository
from app.pricebooks.schemas import PriceBookCreate
from app.pricebooks.service import PriceBookService

_IAAS_RATES = {
    "aws-on-demand": ("0.0416", "0.0052", "2.48"),
    "gcp-on-demand": ("0.0395", "0.0053", "2.55"),
    "azure-pay-as-you-go": ("0.0430", "0.0056", "2.70"),
}
_ONPREM_MONTHLY = {"dc-tokyo-1-tco": "38000", "dc-frankfurt-1-tco": "31000"}

SAMPLE_CLUSTERS: list[dict[str, Any]] = [
    {
        "name": "aws-tokyo",
        "kind": "iaas",
        "provider": "aws",
        "region": "ap-northeast-1",
        "zones": ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
        "country": "JP",
        "labels": {"env": "prod", "tier": "general"},
        "capacity": {"cpu": "192", "memory": "768Gi", "pods": "2200"},
        "priceBook": "aws-on-demand",
    },
    {
        "name": "aws-ireland",
        "kind": "iaas",
        "provider": "aws",
        "region": "eu-west-1",
        "zones": ["eu-west-1a", "eu-west-1b"],
        "country": "IE",
        "labels": {"env": "prod", "tier": "general"},
        "capacity": {"cpu": "128", "memory": "512Gi", "pods": "1500"},
        "priceBook": "aws-on-demand",
    },
    {
        "name": "gcp-frankfurt",
        "kind": "iaas",
        "provider": "gcp",
        "region": "europe-west3",
        "zones": ["europe-west3-a", "europe-west3-b"],
        "country": "DE",
        "labels": {"env": "prod", "tier": "gpu"},
        "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}],
        "capacity": {"cpu": "96", "memory": "384Gi", "nvidia.com/gpu": "8", "pods": "1100"},
        "priceBook": "gcp-on-demand",
    },
    {
        "name": "azure-virginia",
        "kind": "iaas",
        "provider": "azure",
        "region": "eastus",
        "zones": ["eastus-1", "eastus-2", "eastus-3"],
        "country": "US",
        "labels": {"env": "prod", "tier": "general"},
        "capacity": {"cpu": "256", "memory": "1Ti", "pods": "3000"},
        "priceBook": "azure-pay-as-you-go",
    },
    {
        "name": "dc-tokyo-1",
        "kind": "onprem",
        "provider": "dc-tokyo-1",
        "region": "tokyo",
        "country": "JP",
        "labels": {"env": "prod", "tier": "general", "owned": "true"},
        "capacity": {"cpu": "320", "memory": "1280Gi", "pods": "3300"},
        "priceBook": "dc-tokyo-1-tco",
    },
    {
        "name": "dc-frankfurt-1",
        "kind": "onprem",
        "provider": "dc-frankfurt-1",
        "region": "frankfurt",
        "country": "DE",
        "labels": {"env": "prod", "tier": "general", "owned": "true"},
        "capacity": {"cpu": "160", "memory": "640Gi", "pods": "1650"},
        "priceBook": "dc-frankfurt-1-tco",
    },
]


def _price_books(effective_from: datetime) -> list[PriceBookCreate]:
    books = [
        PriceBookCreate.model_validate(
            {
                "name": name,
                "kind": "iaas",
                "currency": "USD",
                "description": f"Sample list prices of {name.split('-')[0]}",
                "version": {
                    "effectiveFrom": effective_from,
                    "rates": {
                        "cpuPerVcpuHour": Decimal(cpu),
                        "memoryPerGibHour": Decimal(memory),
                        "gpuPerGpuHour": Decimal(gpu),
                    },
                },
            }
        )
        for name, (cpu, memory, gpu) in _IAAS_RATES.items()
    ]
    books += [
        PriceBookCreate.model_validate(
            {
                "name": name,
                "kind": "onprem",
                "currency": "USD",
                "description": "Sample total cost of ownership: hardware, power x PUE, space, ops",
                "version": {"effectiveFrom": effective_from, "monthlyFixedCost": Decimal(monthly)},
            }
        )
        for name, monthly in _ONPREM_MONTHLY.items()
    ]
    return books


async def seed_sample_inventory(database: Database, policy: ClusterPolicy) -> bool:
    """Load the sample inventory into an empty database, in one transaction.

    Returns whether anything was loaded; an inventory with any cluster or price book is left
    alone.
    """
    actor = Principal.system("seed")
    async with database.transaction() as session:
        if await ClusterRepository(session).any_exists():
            return False
        if await PriceBookRepository(session).any_exists():
            return False
        start_of_year = datetime(utcnow().year, 1, 1, tzinfo=UTC)
        for book in _price_books(start_of_year):
            await PriceBookService(session).create(book, actor)
        service = ClusterService(session, policy)
        for cluster in SAMPLE_CLUSTERS:
            await service.create(ClusterCreate.model_validate(cluster), actor)
    return True
