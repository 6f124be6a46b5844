"""Queries on price books and their versions."""

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import exists, select

from app.db.models import Cluster, PriceBook, PriceBookVersion
from app.db.repository import Repository


class PriceBookRepository(Repository):
    """Loads books with their versions in one query per page, never one per book."""

    async def by_name(self, name: str, *, for_update: bool = False) -> PriceBook | None:
        query = select(PriceBook).where(PriceBook.name == name)
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def list_page(self, *, after_name: str | None, limit: int) -> Sequence[PriceBook]:
        query = select(PriceBook).order_by(PriceBook.name).limit(limit)
        if after_name is not None:
            query = query.where(PriceBook.name > after_name)
        return (await self.session.scalars(query)).all()

    async def versions_of(self, book_ids: Iterable[uuid.UUID]) -> Sequence[PriceBookVersion]:
        query = (
            select(PriceBookVersion)
            .where(PriceBookVersion.price_book_id.in_(list(book_ids)))
            .order_by(PriceBookVersion.price_book_id, PriceBookVersion.version)
        )
        return (await self.session.scalars(query)).all()

    async def effective_versions(
        self, book_ids: Iterable[uuid.UUID], at: datetime
    ) -> Sequence[tuple[PriceBook, PriceBookVersion | None]]:
        """Each book with its newest version not dated after ``at`` (None if all are later)."""
        ids = list(book_ids)
        if not ids:
            return []
        in_effect = (
            select(PriceBookVersion.id)
            .where(
                PriceBookVersion.price_book_id == PriceBook.id,
                PriceBookVersion.effective_from <= at,
            )
            .order_by(PriceBookVersion.effective_from.desc())
            .limit(1)
            .correlate(PriceBook)
            .scalar_subquery()
        )
        query = (
            select(PriceBook, PriceBookVersion)
            .outerjoin(PriceBookVersion, PriceBookVersion.id == in_effect)
            .where(PriceBook.id.in_(ids))
        )
        return [(book, version) for book, version in (await self.session.execute(query)).all()]

    async def is_referenced(self, book_id: uuid.UUID) -> bool:
        return bool(
            await self.session.scalar(select(exists().where(Cluster.price_book_id == book_id)))
        )

    async def any_exists(self) -> bool:
        return await self.session.scalar(select(PriceBook.id).limit(1)) is not None

    def add(self, item: PriceBook | PriceBookVersion) -> None:
        self.session.add(item)

    async def delete(self, book: PriceBook) -> None:
        await self.session.delete(book)
