"""Creating, versioning and reading price books; every change is audited."""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.pagination import decode_cursor, encode_cursor
from app.audit.service import AuditTrail
from app.auth.principal import Principal
from app.clusters.cache import refresh_cluster_pages_when_committed
from app.db.base import utcnow
from app.db.models import PriceBook, PriceBookVersion
from app.errors import Conflict, InvalidInput, NotFound
from app.pricebooks.repository import PriceBookRepository
from app.pricebooks.schemas import (
    EffectivePricing,
    IaasRates,
    PriceBookCreate,
    PriceBookKind,
    PriceBookPage,
    PriceBookRead,
    PriceBookVersionCreate,
    PriceBookVersionRead,
)

RESOURCE = "price-book"
# A new version may not take effect in the past: reports already produced would change.
# The slack only absorbs clock differences between client and server.
BACKDATING_SLACK = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class BookPricing:
    """A price book's name and the pricing in effect (None before its first version's date)."""

    name: str
    pricing: EffectivePricing | None


def _plain(amount: Decimal | None) -> Decimal | None:
    """Drop the storage scale's trailing zeros: ``0.041600`` → ``0.0416``, not ``3.8E+4``."""
    if amount is None:
        return None
    return (
        amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount.normalize()
    )


def version_read(version: PriceBookVersion) -> PriceBookVersionRead:
    rates = None
    if version.cpu_per_vcpu_hour is not None and version.memory_per_gib_hour is not None:
        rates = IaasRates.model_validate(
            {
                "cpuPerVcpuHour": _plain(version.cpu_per_vcpu_hour),
                "memoryPerGibHour": _plain(version.memory_per_gib_hour),
                "gpuPerGpuHour": _plain(version.gpu_per_gpu_hour),
            }
        )
    return PriceBookVersionRead(
        version=version.version,
        effective_from=version.effective_from,
        rates=rates,
        monthly_fixed_cost=_plain(version.monthly_fixed_cost),
        note=version.note,
        created_at=version.created_at,
        created_by=version.created_by,
    )


def effective_pricing(book: PriceBook, version: PriceBookVersion) -> EffectivePricing:
    view = version_read(version)
    return EffectivePricing(
        price_book=book.name,
        kind=PriceBookKind(book.kind),
        currency=book.currency,
        version=version.version,
        effective_from=version.effective_from,
        rates=view.rates,
        monthly_fixed_cost=view.monthly_fixed_cost,
    )


def _book_read(
    book: PriceBook, versions: Sequence[PriceBookVersion], now: datetime
) -> PriceBookRead:
    views = [version_read(version) for version in versions]
    in_effect = [view for view in views if view.effective_from <= now]
    return PriceBookRead(
        id=book.id,
        name=book.name,
        kind=PriceBookKind(book.kind),
        currency=book.currency,
        description=book.description,
        created_at=book.created_at,
        updated_at=book.updated_at,
        current=max(in_effect, key=lambda view: view.effective_from) if in_effect else None,
        versions=views,
    )


def _check_version_fits_kind(kind: PriceBookKind, version: PriceBookVersionCreate) -> None:
    if kind is PriceBookKind.IAAS:
        if version.rates is None:
            raise InvalidInput("an IaaS price book needs per-hour rates", field="version.rates")
        if version.monthly_fixed_cost is not None:
            raise InvalidInput(
                "an IaaS price book has no monthly fixed cost", field="version.monthlyFixedCost"
            )
    else:
        if version.monthly_fixed_cost is None:
            raise InvalidInput(
                "an on-prem price book needs a monthly fixed cost",
                field="version.monthlyFixedCost",
            )
        if version.rates is not None:
            raise InvalidInput("an on-prem price book has no per-hour rates", field="version.rates")


class PriceBookService:
    """Price book operations inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._books = PriceBookRepository(session)

    async def create(self, request: PriceBookCreate, actor: Principal) -> PriceBookRead:
        _check_version_fits_kind(request.kind, request.version)
        if await self._books.by_name(request.name) is not None:
            raise Conflict(f"a price book named {request.name!r} exists", field="name")
        now = utcnow()
        book = PriceBook(
            id=uuid.uuid4(),
            name=request.name,
            kind=str(request.kind),
            currency=request.currency,
            description=request.description,
            latest_version=1,
            created_at=now,
            updated_at=now,
        )
        self._books.add(book)
        await self._session.flush()
        refresh_cluster_pages_when_committed(self._session)
        version = self._new_version(book, 1, request.version, actor)
        await self._session.flush()
        view = _book_read(book, [version], now)
        AuditTrail(self._session, actor).record(
            "price-book.create",
            RESOURCE,
            book.name,
            before=None,
            after=view.model_dump(mode="json"),
        )
        return view

    async def add_version(
        self, name: str, request: PriceBookVersionCreate, actor: Principal
    ) -> PriceBookRead:
        book = await self._books.by_name(name, for_update=True)
        if book is None:
            raise NotFound(f"no price book named {name!r}")
        _check_version_fits_kind(PriceBookKind(book.kind), request)
        versions = list(await self._books.versions_of([book.id]))
        now = utcnow()
        before = _book_read(book, versions, now)
        latest = max(version.effective_from for version in versions)
        if request.effective_from <= latest:
            raise InvalidInput(
                f"must be after the latest version's date ({latest.isoformat()})",
                field="version.effectiveFrom",
            )
        if request.effective_from < now - BACKDATING_SLACK:
            raise InvalidInput(
                "a new version cannot take effect in the past", field="version.effectiveFrom"
            )
        book.latest_version += 1
        book.updated_at = now
        versions.append(self._new_version(book, book.latest_version, request, actor))
        await self._session.flush()
        refresh_cluster_pages_when_committed(self._session)
        after = _book_read(book, versions, now)
        AuditTrail(self._session, actor).record(
            "price-book.add-version",
            RESOURCE,
            book.name,
            before=before.model_dump(mode="json"),
            after=after.model_dump(mode="json"),
        )
        return after

    async def get(self, name: str) -> PriceBookRead:
        book = await self._books.by_name(name)
        if book is None:
            raise NotFound(f"no price book named {name!r}")
        return _book_read(book, await self._books.versions_of([book.id]), utcnow())

    async def list_page(self, *, cursor: str | None, limit: int) -> PriceBookPage:
        position = decode_cursor(cursor, "after")
        after_name = str(position["after"]) if position is not None else None
        books = await self._books.list_page(after_name=after_name, limit=limit + 1)
        page = books[:limit]
        by_book: dict[uuid.UUID, list[PriceBookVersion]] = defaultdict(list)
        for version in await self._books.versions_of(book.id for book in page):
            by_book[version.price_book_id].append(version)
        now = utcnow()
        items = [_book_read(book, by_book[book.id], now) for book in page]
        next_cursor = encode_cursor({"after": page[-1].name}) if len(books) > limit else None
        return PriceBookPage(items=items, next_cursor=next_cursor)

    async def delete(self, name: str, actor: Principal) -> None:
        book = await self._books.by_name(name, for_update=True)
        if book is None:
            raise NotFound(f"no price book named {name!r}")
        if await self._books.is_referenced(book.id):
            raise Conflict(f"clusters still use price book {name!r}; change them first")
        before = _book_read(book, await self._books.versions_of([book.id]), utcnow())
        await self._books.delete(book)
        refresh_cluster_pages_when_committed(self._session)
        AuditTrail(self._session, actor).record(
            "price-book.delete", RESOURCE, name, before=before.model_dump(mode="json"), after=None
        )

    async def resolve(self, name: str) -> PriceBook:
        """The book a cluster refers to by name; 422 on ``priceBook`` if there is none."""
        book = await self._books.by_name(name)
        if book is None:
            raise InvalidInput(f"no price book named {name!r}", field="priceBook")
        return book

    async def pricing_for(
        self, book_ids: Iterable[uuid.UUID], at: datetime | None = None
    ) -> dict[uuid.UUID, BookPricing]:
        """Name and pricing in effect at ``at`` (now by default) of each of ``book_ids``."""
        rows = await self._books.effective_versions(set(book_ids), at or utcnow())
        return {
            book.id: BookPricing(
                book.name, effective_pricing(book, version) if version is not None else None
            )
            for book, version in rows
        }

    def _new_version(
        self, book: PriceBook, number: int, request: PriceBookVersionCreate, actor: Principal
    ) -> PriceBookVersion:
        rates = request.rates
        version = PriceBookVersion(
            id=uuid.uuid4(),
            price_book_id=book.id,
            version=number,
            effective_from=request.effective_from,
            cpu_per_vcpu_hour=rates.cpu_per_vcpu_hour if rates else None,
            memory_per_gib_hour=rates.memory_per_gib_hour if rates else None,
            gpu_per_gpu_hour=rates.gpu_per_gpu_hour if rates else None,
            monthly_fixed_cost=request.monthly_fixed_cost,
            note=request.note,
            created_at=utcnow(),
            created_by=actor.name,
        )
        self._books.add(version)
        return version
