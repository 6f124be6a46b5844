"""Queries on API tokens."""

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from app.db.models import ApiToken
from app.db.repository import Repository


class TokenRepository(Repository):
    """Looks tokens up by digest and lists them by creation."""

    async def by_hash(self, token_hash: str) -> ApiToken | None:
        return await self.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))

    async def get(self, token_id: uuid.UUID, *, for_update: bool = False) -> ApiToken | None:
        query = select(ApiToken).where(ApiToken.id == token_id)
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def list_page(self, *, after_id: uuid.UUID | None, limit: int) -> Sequence[ApiToken]:
        query = select(ApiToken).order_by(ApiToken.id).limit(limit)
        if after_id is not None:
            query = query.where(ApiToken.id > after_id)
        return (await self.session.scalars(query)).all()

    async def any_exists(self) -> bool:
        return await self.session.scalar(select(ApiToken.id).limit(1)) is not None

    def add(self, token: ApiToken) -> None:
        self.session.add(token)
