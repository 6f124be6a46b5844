"""Engine and session factory; the request's session owns the transaction, services never commit."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from app.db.urls import with_driver


def _replace_closed_connection(
    dbapi_connection: Any, _record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    """Hand out no connection the server has closed (a restart, an idle timeout).

    In place of ``pool_pre_ping``, which on asyncpg costs three round trips per checkout
    (BEGIN, a ping, ROLLBACK): the driver has already seen the server close the socket.
    Raising makes the pool drop this connection and try another.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the database server closed this connection")


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
            pool_timeout=5,
            connect_args={"timeout": 5, "command_timeout": 30},
        )
        event.listen(engine.sync_engine, "checkout", _replace_closed_connection)
        return cls(engine, async_sessionmaker(engine, expire_on_commit=False, autoflush=False))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
