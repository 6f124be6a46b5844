"""Engine and session factory; the request's session owns the transaction, services never commit."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.db.urls import with_driver


@dataclass(frozen=True)
class Database:
    """One engine and its session factory."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    @classmethod
    def connect(cls, url: str, *, pool_size: int = 10) -> "Database":
        """Create the engine lazily: no connection is opened until the first query."""
        engine = create_async_engine(
            with_driver(url, "asyncpg"),
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            pool_timeout=5,
            connect_args={"timeout": 5, "command_timeout": 30},
        )
        return cls(engine, async_sessionmaker(engine, expire_on_commit=False, autoflush=False))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
