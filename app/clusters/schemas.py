"""API shapes of clusters (PRODUCT.md §2)."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from app.api.schemas import ApiModel, ApiResponse, DnsLabel
from app.pricebooks.schemas import EffectivePricing

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=63)]
Provider = Annotated[
    str, StringConstraints(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
Quantity = Annotated[str | int, Field(examples=["500m", "64Gi", 8])]


class ClusterKind(StrEnum):
    IAAS = "iaas"
    ONPREM = "onprem"


class ClusterState(StrEnum):
    """``Cordoned``: no new placements; ``Draining``: move everything away; ``Unreachable``:
    set by health checks."""

    READY = "Ready"
    CORDONED = "Cordoned"
    DRAINING = "Draining"
    UNREACHABLE = "Unreachable"


class TaintSpec(ApiModel):
    """A Kubernetes taint: ``key=value:effect``."""

    key: str = Field(max_length=317)
    value: str = Field(default="", max_length=63)
    effect: str = Field(examples=["NoSchedule", "PreferNoSchedule", "NoExecute"])


class CredentialsInput(ApiModel):
    """Either a ``kubeconfig`` (with an optional ``context``), or ``server`` + ``caData`` with
    a ``token`` or a client certificate and key. Write-only: never returned or logged."""

    kubeconfig: str | None = Field(default=None, repr=False, max_length=256 * 1024)
    context: str | None = Field(default=None, max_length=253)
    server: str | None = Field(default=None, max_length=2048)
    ca_data: str | None = Field(default=None, repr=False, max_length=64 * 1024)
    token: str | None = Field(default=None, repr=False, max_length=16 * 1024)
    client_certificate_data: str | None = Field(default=None, repr=False, max_length=64 * 1024)
    client_key_data: str | None = Field(default=None, repr=False, max_length=64 * 1024)


class ClusterCreate(ApiModel):
    """A cluster to add to the inventory. Capacity values are Kubernetes quantities."""

    name: DnsLabel
    kind: ClusterKind
    provider: Provider
    region: ShortText
    zones: list[ShortText] = Field(default_factory=list, max_length=64)
    country: str = Field(description="ISO 3166-1 alpha-2 code.", examples=["JP"])
    labels: dict[str, str] = Field(default_factory=dict, max_length=256)
    taints: list[TaintSpec] = Field(default_factory=list, max_length=64)
    capacity: dict[str, Quantity] = Field(
        default_factory=dict,
        max_length=32,
        examples=[{"cpu": "96", "memory": "384Gi", "nvidia.com/gpu": "8", "pods": "1100"}],
    )
    price_book: DnsLabel | None = None
    credentials: CredentialsInput | None = None


class ClusterUpdate(ApiModel):
    """Fields to change; a field left out keeps its value, a given field replaces it whole.
    ``priceBook: null`` detaches the price book, ``credentials: null`` forgets the credentials."""

    provider: Provider | None = None
    region: ShortText | None = None
    zones: list[ShortText] | None = Field(default=None, max_length=64)
    country: str | None = None
    labels: dict[str, str] | None = Field(default=None, max_length=256)
    taints: list[TaintSpec] | None = Field(default=None, max_length=64)
    capacity: dict[str, Quantity] | None = Field(default=None, max_length=32)
    price_book: DnsLabel | None = None
    credentials: CredentialsInput | None = None


class ResourceAmount(ApiResponse):
    """An amount in the resource's base unit (millicores, bytes, count) and in Kubernetes form."""

    amount: int
    quantity: str


class CredentialsStatus(ApiResponse):
    """Whether credentials are stored, and the (non-secret) API server they point to."""

    configured: bool
    server: str | None


class ClusterRead(ApiResponse):
    """A cluster as stored, with its derived jurisdictions and the pricing in effect now."""

    id: uuid.UUID
    name: str
    kind: ClusterKind
    provider: str
    region: str
    zones: list[str]
    country: str
    jurisdictions: list[str]
    labels: dict[str, str]
    taints: list[TaintSpec]
    capacity: dict[str, ResourceAmount]
    state: ClusterState
    cordoned: bool
    draining: bool
    credentials: CredentialsStatus
    price_book: str | None
    pricing: EffectivePricing | None
    resource_version: int
    etag: str = Field(description="The value to send as `If-Match` to change this cluster.")
    created_at: datetime
    updated_at: datetime


class ClusterPage(ApiResponse):
    """One page of clusters, by name."""

    items: list[ClusterRead]
    next_cursor: str | None
