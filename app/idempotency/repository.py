"""Queries on stored first responses."""

import uuid

from sqlalchemy import delete, func, select

from app.db.models import IdempotencyRecord
from app.db.repository import Repository


class IdempotencyRepository(Repository):
    """Finds, stores and expires records keyed by token, route and key."""

    async def lock(self, lock_id: int) -> bool:
        """Take a transaction-scoped advisory lock; False if another transaction holds it."""
        acquired = await self.session.scalar(select(func.pg_try_advisory_xact_lock(lock_id)))
        return bool(acquired)

    async def find(self, token_id: uuid.UUID, route: str, key: str) -> IdempotencyRecord | None:
        return await self.session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.token_id == token_id,
                IdempotencyRecord.route == route,
                IdempotencyRecord.key == key,
            )
        )

    async def remove(self, record: IdempotencyRecord) -> None:
        await self.session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.id == record.id)
        )

    def add(self, record: IdempotencyRecord) -> None:
        self.session.add(record)
