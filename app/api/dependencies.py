"""Request-scoped dependencies: the database sessions and the authorized principal."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.roles import Role
from app.auth.service import TokenService
from app.auth.tokens import hash_token
from app.auth.verified import verified_tokens
from app.db.base import utcnow
from app.db.session import Database
from app.errors import Forbidden, Unauthenticated

ROLES_ATTRIBUTE = "placer_roles"

_bearer = HTTPBearer(
    auto_error=False,
    description="A Placer API token: `Authorization: Bearer placer_…`.",
)


def get_database(request: Request) -> Database:
    """The process's database handle."""
    database: Database = request.app.state.database
    return database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and one transaction per request: committed before the response is sent."""
    async with get_database(request).transaction() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for requests that only read: each statement commits on its own (autocommit).

    Reads that need no common snapshot (READ COMMITTED gives none across statements anyway)
    spare the BEGIN and COMMIT round trips: a page of a list is then one round trip.
    """
    async with get_database(request).sessionmaker() as session:
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session


ReadSession = Annotated[AsyncSession, Depends(get_read_session, scope="function")]


async def _authenticate(database: Database, presented: str) -> Principal:
    """The token's principal; one verified in the last few seconds needs no database session."""
    verified = verified_tokens(database.engine.sync_engine)
    principal = verified.principal(hash_token(presented), utcnow())
    if principal is not None:
        return principal
    async with database.transaction() as session:
        return await TokenService(session).authenticate(presented)


def authorize(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting holders of a valid token whose role is one of ``roles``."""
    allowed = frozenset(roles)

    async def authorized_principal(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    ) -> Principal:
        if credentials is None:
            raise Unauthenticated("send an API token as `Authorization: Bearer <token>`")
        principal = await _authenticate(get_database(request), credentials.credentials)
        if principal.role not in allowed:
            names = ", ".join(sorted(allowed))
            raise Forbidden(f"role {principal.role} may not do this; allowed roles: {names}")
        return principal

    setattr(authorized_principal, ROLES_ATTRIBUTE, tuple(role for role in Role if role in allowed))
    return authorized_principal
