"""The cluster inventory: validation of what admins send, credentials sealed, changes audited."""

import asyncio
import json
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic.alias_generators import to_camel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.etag import etag_for, require_match
from app.api.pagination import decode_cursor, encode_cursor
from app.audit.service import AuditTrail
from app.auth.principal import Principal
from app.clusters.cache import refresh_cluster_pages_when_committed
from app.clusters.credentials import (
    ClusterCredentials,
    CredentialError,
    IPNetwork,
    credentials_from_fields,
    parse_kubeconfig,
)
from app.clusters.geography import UnknownCountryError, jurisdictions_for, normalize_country
from app.clusters.repository import ClusterFilter, ClusterRepository
from app.clusters.schemas import (
    ClusterCreate,
    ClusterKind,
    ClusterRead,
    ClusterState,
    ClusterUpdate,
    CredentialsInput,
    TaintSpec,
)
from app.db.base import utcnow
from app.db.models import Cluster
from app.errors import Conflict, InvalidInput, NotFound
from app.kubetypes import (
    KubeSyntaxError,
    Taint,
    format_resource,
    parse_resource,
    validate_label_key,
    validate_labels,
)
from app.pricebooks.service import BookPricing, PriceBookService
from app.security.secretbox import SecretBox

RESOURCE = "cluster"


@dataclass(frozen=True)
class ClusterPolicy:
    """What the service needs beyond the database: the key box and the admin's settings."""

    secret_box: SecretBox
    allowed_networks: tuple[IPNetwork, ...] = ()
    jurisdiction_groups: Mapping[str, Collection[str]] = field(default_factory=dict)


class SchedulingAction(StrEnum):
    """What an admin can do to a cluster's schedulability."""

    CORDON = "cordon"
    UNCORDON = "uncordon"
    DRAIN = "drain"


def derive_state(cluster: Cluster) -> ClusterState:
    """The one state shown for the cluster's flags, the most restrictive first."""
    if cluster.unreachable:
        return ClusterState.UNREACHABLE
    if cluster.draining:
        return ClusterState.DRAINING
    if cluster.cordoned:
        return ClusterState.CORDONED
    return ClusterState.READY


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class ClusterFields(Protocol):
    """What a cluster document is made of."""

    id: uuid.UUID
    name: str
    kind: str
    provider: str
    region: str
    zones: list[str]
    country: str
    jurisdictions: list[str]
    labels: dict[str, Any]
    taints: list[dict[str, str]]
    capacity: dict[str, Any]
    state: str
    cordoned: bool
    draining: bool
    api_server: str | None
    version: int
    created_at: datetime
    updated_at: datetime


def cluster_document(cluster: ClusterFields, pricing: dict[str, Any] | None) -> dict[str, Any]:
    """The JSON form of a stored cluster (the ``ClusterRead`` schema), ready to encode.

    ``cluster_read`` validates it; the list has Postgres render the same document
    (``ClusterRepository.list_page``). Credentials appear only as configured or not.
    ``pricing`` is ``price_book_document``'s.
    """
    return {
        "id": str(cluster.id),
        "name": cluster.name,
        "kind": cluster.kind,
        "provider": cluster.provider,
        "region": cluster.region,
        "zones": cluster.zones,
        "country": cluster.country,
        "jurisdictions": cluster.jurisdictions,
        "labels": cluster.labels,
        "taints": cluster.taints,
        "capacity": {
            resource: {"amount": amount, "quantity": format_resource(resource, amount)}
            for resource, amount in cluster.capacity.items()
        },
        "state": cluster.state,
        "cordoned": cluster.cordoned,
        "draining": cluster.draining,
        "credentials": {"configured": cluster.api_server is not None, "server": cluster.api_server},
        "priceBook": pricing["name"] if pricing is not None else None,
        "pricing": pricing["pricing"] if pricing is not None else None,
        "resourceVersion": cluster.version,
        "etag": etag_for(cluster.id, cluster.version),
        "createdAt": _timestamp(cluster.created_at),
        "updatedAt": _timestamp(cluster.updated_at),
    }


def price_book_document(pricing: BookPricing) -> dict[str, Any]:
    """A cluster's price book name and pricing in effect, as JSON data."""
    effective = pricing.pricing.model_dump(mode="json") if pricing.pricing is not None else None
    return {"name": pricing.name, "pricing": effective}


def _priced(document: str, pricing: dict[str, Any]) -> str:
    """A rendered cluster document with its price book's name and pricing filled in."""
    return json.dumps(
        {**json.loads(document), "priceBook": pricing["name"], "pricing": pricing["pricing"]}
    )


def cluster_read(cluster: Cluster, pricing: BookPricing | None) -> ClusterRead:
    """The public view of a stored cluster, validated against its schema."""
    document = cluster_document(
        cluster, price_book_document(pricing) if pricing is not None else None
    )
    return ClusterRead.model_validate(document)


def _country(value: str) -> str:
    try:
        return normalize_country(value)
    except UnknownCountryError as exc:
        raise InvalidInput(str(exc), field="country") from exc


def _labels(labels: Mapping[str, str]) -> dict[str, str]:
    try:
        validate_labels(labels)
    except KubeSyntaxError as exc:
        raise InvalidInput(exc.message, field=f"labels.{exc.field}") from exc
    return dict(labels)


def _taints(taints: Sequence[TaintSpec]) -> list[dict[str, str]]:
    parsed: list[dict[str, str]] = []
    for index, spec in enumerate(taints):
        try:
            taint = Taint.from_spec(spec.model_dump())
        except KubeSyntaxError as exc:
            raise InvalidInput(exc.message, field=f"taints[{index}].{exc.field}") from exc
        if any(t["key"] == taint.key and t["effect"] == taint.effect for t in parsed):
            raise InvalidInput("duplicate taint key and effect", field=f"taints[{index}]")
        parsed.append(taint.to_spec())
    return parsed


def _capacity(capacity: Mapping[str, str | int]) -> dict[str, int]:
    amounts: dict[str, int] = {}
    for resource, quantity in capacity.items():
        try:
            validate_label_key(resource)
        except KubeSyntaxError as exc:
            raise InvalidInput(
                f"not a resource name: {exc.message}", field=f"capacity.{resource}"
            ) from exc
        try:
            amounts[resource] = parse_resource(resource, quantity)
        except KubeSyntaxError as exc:
            raise InvalidInput(exc.message, field=f"capacity.{resource}") from exc
    return amounts


def _zones(zones: Sequence[str]) -> list[str]:
    if len(set(zones)) != len(zones):
        raise InvalidInput("zones must not repeat", field="zones")
    return list(zones)


def _api_field(field_path: str) -> str:
    """Name credential fields as the API spells them: ``credentials.ca_data`` → ``caData``."""
    head, _, rest = field_path.partition(".")
    if head == "credentials" and rest and "_" in rest and "." not in rest:
        return f"credentials.{to_camel(rest)}"
    return field_path


class ClusterService:
    """Cluster operations inside the caller's transaction."""

    def __init__(self, session: AsyncSession, policy: ClusterPolicy) -> None:
        self._session = session
        self._policy = policy
        self._clusters = ClusterRepository(session)
        self._price_books = PriceBookService(session)

    async def create(self, request: ClusterCreate, actor: Principal) -> ClusterRead:
        """Add a cluster; nothing is stored unless every field is valid."""
        country = _country(request.country)
        now = utcnow()
        cluster = Cluster(
            id=uuid.uuid4(),
            name=request.name,
            kind=str(request.kind),
            provider=request.provider,
            region=request.region,
            zones=_zones(request.zones),
            country=country,
            jurisdictions=self._jurisdictions(country),
            labels=_labels(request.labels),
            taints=_taints(request.taints),
            capacity=_capacity(request.capacity),
            cordoned=False,
            draining=False,
            unreachable=False,
            state=str(ClusterState.READY),
            price_book_id=None,
            version=1,
            created_at=now,
            updated_at=now,
        )
        if request.price_book is not None:
            cluster.price_book_id = await self._price_book_id(request.price_book, request.kind)
        if request.credentials is not None:
            cluster.api_server, cluster.credentials_ciphertext = await self._seal(
                request.credentials
            )
        else:
            cluster.api_server = None
        self._clusters.add(cluster)
        refresh_cluster_pages_when_committed(self._session)
        # The unique index answers "is the name taken?" in the INSERT's own round trip.
        await self._flush_unique(request.name)
        view = await self._view(cluster)
        self._audit(actor).record(
            "cluster.create",
            RESOURCE,
            cluster.name,
            before=None,
            after=view.model_dump(mode="json"),
        )
        return view

    async def get(self, name: str) -> ClusterRead:
        return await self._view(await self._require(name))

    async def list_page(self, criteria: ClusterFilter, *, cursor: str | None, limit: int) -> bytes:
        """One page, encoded as the JSON of ``ClusterPage``.

        Postgres renders each cluster's document; only clusters with a price book are decoded
        here, to add the pricing in effect now.
        """
        position = decode_cursor(cursor, "after")
        after_name = str(position["after"]) if position is not None else None
        clusters = await self._clusters.list_page(criteria, after_name=after_name, limit=limit + 1)
        page = clusters[:limit]
        pricing = {
            book_id: price_book_document(book)
            for book_id, book in (
                await self._price_books.pricing_for(
                    {c.price_book_id for c in page if c.price_book_id is not None}
                )
            ).items()
        }
        # A book missing here was detached and deleted between the two reads: show none.
        items = [
            _priced(c.document, pricing[c.price_book_id])
            if c.price_book_id in pricing
            else c.document
            for c in page
        ]
        next_cursor = encode_cursor({"after": page[-1].name}) if len(clusters) > limit else None
        return f'{{"items":[{",".join(items)}],"nextCursor":{json.dumps(next_cursor)}}}'.encode()

    async def update(
        self, name: str, request: ClusterUpdate, if_match: str | None, actor: Principal
    ) -> ClusterRead:
        """Apply the given fields, all or none, if ``If-Match`` still matches."""
        cluster = await self._require(name, for_update=True)
        require_match(if_match, etag_for(cluster.id, cluster.version))
        before = await self._view(cluster)
        given = request.model_fields_set
        for required in ("provider", "region", "zones", "country", "labels", "taints", "capacity"):
            if required in given and getattr(request, required) is None:
                raise InvalidInput("must not be null", field=to_camel(required))
        if request.provider is not None:
            cluster.provider = request.provider
        if request.region is not None:
            cluster.region = request.region
        if request.zones is not None:
            cluster.zones = _zones(request.zones)
        if request.country is not None:
            cluster.country = _country(request.country)
            cluster.jurisdictions = self._jurisdictions(cluster.country)
        if request.labels is not None:
            cluster.labels = _labels(request.labels)
        if request.taints is not None:
            cluster.taints = _taints(request.taints)
        if request.capacity is not None:
            cluster.capacity = _capacity(request.capacity)
        if "price_book" in given:
            cluster.price_book_id = (
                await self._price_book_id(request.price_book, ClusterKind(cluster.kind))
                if request.price_book is not None
                else None
            )
        if "credentials" in given:
            if request.credentials is None:
                cluster.api_server, cluster.credentials_ciphertext = None, None
            else:
                cluster.api_server, cluster.credentials_ciphertext = await self._seal(
                    request.credentials
                )
        return await self._commit_change(cluster, "cluster.update", before, actor)

    async def set_scheduling(
        self, name: str, action: SchedulingAction, if_match: str | None, actor: Principal
    ) -> ClusterRead:
        """Cordon (no new placements), drain (move everything away) or uncordon (both off)."""
        cluster = await self._require(name, for_update=True)
        require_match(if_match, etag_for(cluster.id, cluster.version))
        before = await self._view(cluster)
        match action:
            case SchedulingAction.CORDON:
                cluster.cordoned = True
            case SchedulingAction.DRAIN:
                cluster.cordoned, cluster.draining = True, True
            case SchedulingAction.UNCORDON:
                cluster.cordoned, cluster.draining = False, False
        if (cluster.cordoned, cluster.draining) == (before.cordoned, before.draining):
            return before
        return await self._commit_change(cluster, f"cluster.{action}", before, actor)

    async def delete(self, name: str, if_match: str | None, actor: Principal) -> None:
        cluster = await self._require(name, for_update=True)
        require_match(if_match, etag_for(cluster.id, cluster.version))
        # Deleting it would silently drop their placements and orphan what runs there.
        placed = await self._clusters.workloads_on(cluster.id, limit=6)
        if placed:
            shown = ", ".join(placed[:5]) + (", ..." if len(placed) > 5 else "")
            raise Conflict(
                f"cluster {name} still has workloads placed on it ({shown}): "
                "cordon it and move or delete them first"
            )
        before = await self._view(cluster)
        await self._clusters.delete(cluster)
        refresh_cluster_pages_when_committed(self._session)
        self._audit(actor).record(
            "cluster.delete", RESOURCE, name, before=before.model_dump(mode="json"), after=None
        )

    async def _commit_change(
        self, cluster: Cluster, action: str, before: ClusterRead, actor: Principal
    ) -> ClusterRead:
        cluster.state = str(derive_state(cluster))
        cluster.version += 1
        cluster.updated_at = utcnow()
        await self._session.flush()
        refresh_cluster_pages_when_committed(self._session)
        after = await self._view(cluster)
        self._audit(actor).record(
            action,
            RESOURCE,
            cluster.name,
            before=before.model_dump(mode="json"),
            after=after.model_dump(mode="json"),
        )
        return after

    async def _require(self, name: str, *, for_update: bool = False) -> Cluster:
        cluster = await self._clusters.by_name(name, for_update=for_update)
        if cluster is None:
            raise NotFound(f"no cluster named {name!r}")
        return cluster

    async def _view(self, cluster: Cluster) -> ClusterRead:
        pricing = None
        if cluster.price_book_id is not None:
            pricing = (await self._price_books.pricing_for([cluster.price_book_id])).get(
                cluster.price_book_id
            )
        return cluster_read(cluster, pricing)

    async def _price_book_id(self, name: str, kind: ClusterKind) -> uuid.UUID:
        book = await self._price_books.resolve(name)
        if book.kind != kind:
            raise InvalidInput(
                f"price book {name!r} is for {book.kind} clusters, this cluster is {kind}",
                field="priceBook",
            )
        return book.id

    async def _seal(self, given: CredentialsInput) -> tuple[str, bytes]:
        # Host names in the server URL are resolved while checking; keep that off the loop.
        credentials = await asyncio.to_thread(self._parse_credentials, given)
        return credentials.server, self._policy.secret_box.encrypt(credentials.to_json())

    def _parse_credentials(self, given: CredentialsInput) -> ClusterCredentials:
        networks = self._policy.allowed_networks
        fields: dict[str, Any] = {
            "server": given.server,
            "ca_data": given.ca_data,
            "token": given.token,
            "client_certificate_data": given.client_certificate_data,
            "client_key_data": given.client_key_data,
        }
        try:
            if given.kubeconfig is not None:
                extra = [name for name, value in fields.items() if value is not None]
                if extra:
                    raise CredentialError(
                        f"credentials.{extra[0]}", "give either a kubeconfig or separate fields"
                    )
                return parse_kubeconfig(
                    given.kubeconfig, allowed_networks=networks, context=given.context
                )
            if given.context is not None:
                raise CredentialError("credentials.context", "is only used with a kubeconfig")
            for required in ("server", "ca_data"):
                if fields[required] is None:
                    raise CredentialError(
                        f"credentials.{required}", "is required (or give a kubeconfig)"
                    )
            return credentials_from_fields(allowed_networks=networks, **fields)
        except CredentialError as exc:
            raise InvalidInput(exc.message, field=_api_field(exc.field)) from exc

    def _jurisdictions(self, country: str) -> list[str]:
        return list(jurisdictions_for(country, self._policy.jurisdiction_groups))

    async def _flush_unique(self, name: str) -> None:
        try:
            await self._session.flush()
        except IntegrityError as exc:
            raise Conflict(f"a cluster named {name!r} exists", field="name") from exc

    def _audit(self, actor: Principal) -> AuditTrail:
        return AuditTrail(self._session, actor)
