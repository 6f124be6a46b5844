"""Base of every repository: the only place queries are written."""

from sqlalchemy.ext.asyncio import AsyncSession


class Repository:
    """Queries for one aggregate, run in the caller's session and transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
