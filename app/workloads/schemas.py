"""API shapes of workloads (PRODUCT.md §5), their decisions (§6) and their history."""

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from app.api.schemas import ApiModel, ApiResponse, DnsLabel
from app.scheduling.types import DivideBy, SpreadBy, Strategy

Team = Annotated[
    str, StringConstraints(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
]


class WorkloadStatus(StrEnum):
    """Where a workload stands.

    ``Pending``: stored, not decided yet (see ``POST /v1/placements:batch``). ``Placed``:
    decided; deployment follows (clusters without credentials stay here: plan only).
    ``Deploying``/``Running``/``Degraded``/``Failed``: what the clusters report. A workload
    that was running in a cluster whose API server stops answering shows ``Degraded`` with its
    last known ready replicas (presumably still running, but unseen) and a ``retried`` event
    per attempt, with growing backoff; it returns to ``Running`` once the cluster answers.
    ``Failed``: the API server refused a manifest (its message is in ``statusMessage`` and a
    ``failed`` event) or a rollout failed; tried again at the periodic resync or on an update.
    ``Unschedulable``: no placement satisfies it; retried when the inventory changes.
    ``Deleting``: removal from every cluster is under way.
    """

    PENDING = "Pending"
    PLACED = "Placed"
    DEPLOYING = "Deploying"
    RUNNING = "Running"
    DEGRADED = "Degraded"
    UNSCHEDULABLE = "Unschedulable"
    FAILED = "Failed"
    DELETING = "Deleting"


class SelectorRequirement(ApiModel):
    """``key``, ``operator`` (``In``, ``NotIn``, ``Exists``, ``DoesNotExist``, ``Gt``, ``Lt``)
    and ``values``, as in Kubernetes."""

    key: str = Field(max_length=317)
    operator: str = Field(max_length=20)
    values: list[str] = Field(default_factory=list, max_length=64)


class LabelSelectorSpec(ApiModel):
    """A Kubernetes label selector in structured form; every requirement must hold."""

    match_labels: dict[str, str] = Field(default_factory=dict, max_length=64)
    match_expressions: list[SelectorRequirement] = Field(default_factory=list, max_length=64)


class TolerationSpec(ApiModel):
    """A Kubernetes toleration, admitting the workload to clusters with matching taints."""

    key: str = Field(default="", max_length=317)
    operator: str = Field(default="Equal", examples=["Equal", "Exists"])
    value: str = Field(default="", max_length=63)
    effect: str = Field(default="", examples=["NoSchedule", "PreferNoSchedule", "NoExecute"])
    toleration_seconds: int | None = None


class AffinityTermSpec(ApiModel):
    """Co-location with (affinity) or away from (anti-affinity) other workloads, per cluster.

    Without ``weight`` the term is required; with a weight (1-100) it is a preference.
    ``namespaces`` empty means the workload's own namespace; ``["*"]`` means every namespace.
    """

    label_selector: LabelSelectorSpec
    weight: int | None = Field(default=None, ge=1, le=100)
    namespaces: list[str] = Field(default_factory=list, max_length=64)


class PlacementIntent(ApiModel):
    """How the workload's replicas are laid out over clusters, and what limits the choice.

    * ``single``: every replica in one cluster;
    * ``spread``: replicas across at least ``minSpread`` clusters or zones (``spreadBy``);
    * ``divided``: replicas split across clusters by free capacity or by ``weights``
      (cluster name → weight) when ``divideBy`` is ``weights``;
    * ``duplicated``: the full workload in each of ``copies`` clusters.

    ``maxHourlyCost`` caps the whole placement, in the currency of the clusters' price books.
    """

    strategy: Strategy = Strategy.SINGLE
    min_spread: int | None = Field(default=None, ge=1, le=1000)
    spread_by: SpreadBy | None = None
    divide_by: DivideBy | None = None
    weights: dict[str, int] | None = Field(default=None, max_length=1000)
    copies: int | None = Field(default=None, ge=1, le=1000)
    cluster_selector: LabelSelectorSpec | None = None
    tolerations: list[TolerationSpec] = Field(default_factory=list, max_length=64)
    max_hourly_cost: Decimal | None = Field(
        default=None, ge=0, max_digits=20, decimal_places=6, examples=["1.50"]
    )
    affinity: list[AffinityTermSpec] = Field(default_factory=list, max_length=32)
    anti_affinity: list[AffinityTermSpec] = Field(default_factory=list, max_length=32)


class Disruption(ApiModel):
    """How much disruption moves may cause: ``minAvailable`` replicas stay ready during a
    move; ``stateful`` workloads are never moved automatically."""

    min_available: int = Field(default=0, ge=0)
    stateful: bool = False


class WorkloadCreate(ApiModel):
    """A workload to place: Kubernetes manifests (one Deployment, StatefulSet or Job plus the
    Services, ConfigMaps and Secrets it needs) and placement intent."""

    name: DnsLabel
    namespace: DnsLabel = "default"
    team: Team
    labels: dict[str, str] = Field(default_factory=dict, max_length=64)
    manifests: list[dict[str, Any]] = Field(min_length=1, max_length=50)
    placement: PlacementIntent = Field(default_factory=PlacementIntent)
    disruption: Disruption = Field(default_factory=Disruption)


class WorkloadReplace(ApiModel):
    """Everything an operator may change, given whole (``PUT``)."""

    team: Team
    labels: dict[str, str] = Field(default_factory=dict, max_length=64)
    manifests: list[dict[str, Any]] = Field(min_length=1, max_length=50)
    placement: PlacementIntent = Field(default_factory=PlacementIntent)
    disruption: Disruption = Field(default_factory=Disruption)


class WorkloadPatch(ApiModel):
    """Fields to change (``PATCH``); a field left out keeps its value, a given one replaces it
    whole."""

    team: Team | None = None
    labels: dict[str, str] | None = Field(default=None, max_length=64)
    manifests: list[dict[str, Any]] | None = Field(default=None, min_length=1, max_length=50)
    placement: PlacementIntent | None = None
    disruption: Disruption | None = None


class ResourceAmount(ApiResponse):
    """An amount in the resource's base unit (millicores, bytes, count) and in Kubernetes form."""

    amount: int
    quantity: str


class ClusterPlacement(ApiResponse):
    """Replicas desired on one cluster and, once the reconciler has reported, how many are
    ready there."""

    cluster: str
    replicas: int
    ready_replicas: int | None
    price_book: str | None = Field(
        description="The cluster's price book; null when it has none, so this share's cost is "
        "unknown and counted as 0 (see `notes`)."
    )


class WorkloadRead(ApiResponse):
    """A workload as stored, with its status and desired placement per cluster."""

    id: uuid.UUID
    name: str
    namespace: str
    team: str
    labels: dict[str, str]
    kind: str
    replicas: int
    requests: dict[str, ResourceAmount] = Field(description="Per replica.")
    manifests: list[dict[str, Any]]
    placement: dict[str, Any]
    disruption: dict[str, Any]
    revision: int
    status: WorkloadStatus
    status_message: str
    deletion_requested: bool
    desired_generation: int
    placements: list[ClusterPlacement]
    notes: list[str] = Field(
        description="What the reader should know about the placement, e.g. a cluster without "
        "a price book, whose cost is unknown and counted as 0."
    )
    resource_version: int
    etag: str = Field(description="The value to send as `If-Match` to change this workload.")
    created_at: datetime
    updated_at: datetime


class WorkloadPage(ApiResponse):
    """One page of workloads, by namespace and name."""

    items: list[WorkloadRead]
    next_cursor: str | None


class DecisionRead(ApiResponse):
    """An explained placement decision.

    ``verdicts`` hold, per cluster, the rule, filter or capacity that rejected it, or its
    score per plugin; ``cost`` and ``alternative`` (the next best compliant placement) are in
    integer micro-units of the price book currency; ``remedies`` say what would make an
    unplaceable workload placeable. ``inputs`` (workload, inventory snapshot, profile and
    policy sources) are enough to replay it. ``batch`` is set when the optimizer placed the
    workload jointly with others. A dry-run answer has no ``id``.
    """

    id: uuid.UUID | None
    workload_id: uuid.UUID | None
    revision: int | None
    method: str = Field(examples=["scheduler", "optimizer"])
    outcome: str = Field(examples=["placed", "unschedulable"])
    decided_at: datetime
    summary: str
    assignment: dict[str, int]
    cost: dict[str, Any] | None
    alternative: dict[str, Any] | None
    verdicts: list[dict[str, Any]]
    remedies: list[str]
    notes: list[str]
    policy_versions: dict[str, str]
    price_book_versions: dict[str, int]
    batch: dict[str, Any] | None
    inputs: dict[str, Any]


class WorkloadEventRead(ApiResponse):
    """One entry of a workload's history."""

    id: int
    at: datetime
    kind: str = Field(
        description="What happened: `submitted`, `updated`, `deleting`; `decided`, "
        "`unschedulable`; in a cluster (`cluster` names it): `applied`, `pruned` (objects "
        "the manifests no longer have, such as a renamed ConfigMap, deleted there), `ready`, "
        "`degraded`, `failed`, `retried`, `deleted`.",
        examples=["decided", "unschedulable", "applied", "pruned", "ready", "failed"],
    )
    cluster: str | None
    message: str
    generation: int


class WorkloadEventPage(ApiResponse):
    """One page of a workload's history, oldest first."""

    items: list[WorkloadEventRead]
    next_cursor: str | None
