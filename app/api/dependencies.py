"""Request-scoped dependencies: the transactional session and the authorized principal."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.roles import Role
from app.auth.service import TokenService
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


def authorize(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting holders of a valid token whose role is one of ``roles``."""
    allowed = frozenset(roles)

    async def authorized_principal(
        session: Session,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    ) -> Principal:
        if credentials is None:
            raise Unauthenticated("send an API token as `Authorization: Bearer <token>`")
        principal = await TokenService(session).authenticate(credentials.credentials)
        if principal.role not in allowed:
            names = ", ".join(sorted(allowed))
            raise Forbidden(f"role {principal.role} may not do this; allowed roles: {names}")
        return principal

    setattr(authorized_principal, ROLES_ATTRIBUTE, tuple(role for role in Role if role in allowed))
    return authorized_principal
