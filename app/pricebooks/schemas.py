"""API shapes of price books."""

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

import pycountry
from pydantic import AfterValidator, AwareDatetime, Field

from app.api.schemas import ApiModel, ApiResponse, DnsLabel

Money = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=6)]


class PriceBookKind(StrEnum):
    """IaaS books price resource-hours; on-prem books carry a monthly fixed cost."""

    IAAS = "iaas"
    ONPREM = "onprem"


def _currency(value: str) -> str:
    code = value.upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return code


Currency = Annotated[str, AfterValidator(_currency)]


class IaasRates(ApiModel):
    """Prices per resource-hour."""

    cpu_per_vcpu_hour: Money
    memory_per_gib_hour: Money
    gpu_per_gpu_hour: Money | None = None


class PriceBookVersionCreate(ApiModel):
    """A new version: ``rates`` for an IaaS book, ``monthlyFixedCost`` for an on-prem one."""

    effective_from: AwareDatetime
    rates: IaasRates | None = None
    monthly_fixed_cost: Money | None = Field(
        default=None,
        description="Amortized hardware + power x PUE + space + operations, per month.",
    )
    note: str = Field(default="", max_length=500)


class PriceBookCreate(ApiModel):
    """A new price book with its first version."""

    name: DnsLabel
    kind: PriceBookKind
    currency: Currency
    description: str = Field(default="", max_length=500)
    version: PriceBookVersionCreate


class PriceBookVersionRead(ApiResponse):
    """One immutable version of a price book."""

    version: int
    effective_from: datetime
    rates: IaasRates | None
    monthly_fixed_cost: Decimal | None
    note: str
    created_at: datetime
    created_by: str


class PriceBookRead(ApiResponse):
    """A price book, its versions (oldest first) and the version in effect now."""

    id: uuid.UUID
    name: str
    kind: PriceBookKind
    currency: str
    description: str
    created_at: datetime
    updated_at: datetime
    current: PriceBookVersionRead | None = Field(description="The version in effect now.")
    versions: list[PriceBookVersionRead]


class PriceBookPage(ApiResponse):
    """One page of price books, by name."""

    items: list[PriceBookRead]
    next_cursor: str | None


class EffectivePricing(ApiResponse):
    """The rates a cluster is charged at now: the price book's version in effect."""

    price_book: str
    kind: PriceBookKind
    currency: str
    version: int
    effective_from: datetime
    rates: IaasRates | None
    monthly_fixed_cost: Decimal | None
