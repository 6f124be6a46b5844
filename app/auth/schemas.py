"""API shapes of tokens."""

import uuid
from datetime import datetime

from pydantic import Field

from app.api.schemas import ApiModel, ApiResponse
from app.auth.roles import Role


class TokenCreate(ApiModel):
    """A request for a new token; ``expiresAt`` in the future, or none for no expiry."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._:@-]*$")
    role: Role
    expires_at: datetime | None = None


class TokenRead(ApiResponse):
    """A token as listed: never the secret itself."""

    id: uuid.UUID
    name: str
    role: Role
    prefix: str = Field(description="First characters of the token, to recognise it.")
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool


class TokenCreated(TokenRead):
    """The answer to a create: the only time the secret is shown."""

    token: str = Field(description="The bearer token; shown once, store it now.")


class TokenPage(ApiResponse):
    """One page of tokens."""

    items: list[TokenRead]
    next_cursor: str | None
