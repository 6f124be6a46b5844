"""Issuing, verifying and revoking API tokens."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.pagination import decode_cursor, encode_cursor
from app.audit.service import AuditTrail
from app.auth.principal import Principal
from app.auth.repository import TokenRepository
from app.auth.roles import Role
from app.auth.schemas import TokenCreate, TokenCreated, TokenPage, TokenRead
from app.auth.tokens import (
    MIN_TOKEN_LENGTH,
    digests_match,
    display_prefix,
    generate_token,
    hash_token,
)
from app.auth.verified import VerifiedTokens, verified_tokens
from app.db.base import utcnow
from app.db.models import ApiToken
from app.errors import InvalidInput, NotFound, Unauthenticated

RESOURCE = "token"
BOOTSTRAP_NAME = "bootstrap-admin"


def token_read(token: ApiToken, now: datetime | None = None) -> TokenRead:
    """The public view of a stored token."""
    moment = now or utcnow()
    active = token.revoked_at is None and (token.expires_at is None or token.expires_at > moment)
    return TokenRead(
        id=token.id,
        name=token.name,
        role=Role(token.role),
        prefix=token.token_prefix,
        created_by=token.created_by,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        active=active,
    )


class TokenService:
    """Token operations inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._tokens = TokenRepository(session)

    async def authenticate(self, presented: str) -> Principal:
        """The principal a bearer token stands for; 401 if unknown, expired or revoked.

        A verification of the last few seconds is reused (see ``app.auth.verified``).
        """
        digest = hash_token(presented)
        now = utcnow()
        verified = self._verified()
        principal = verified.principal(digest, now)
        if principal is not None:
            return principal
        revocations_before = verified.revocations
        token = await self._tokens.by_hash(digest)
        if token is None or not digests_match(digest, token.token_hash):
            raise Unauthenticated("the token is not valid")
        if token.revoked_at is not None:
            raise Unauthenticated("the token has been revoked")
        if token.expires_at is not None and token.expires_at <= now:
            raise Unauthenticated("the token has expired")
        principal = Principal(name=token.name, role=Role(token.role), token_id=token.id)
        verified.remember(
            digest, principal, token.expires_at, revocations_before=revocations_before
        )
        return principal

    async def create(self, request: TokenCreate, actor: Principal) -> TokenCreated:
        """Issue a token; its secret is in the answer and nowhere else."""
        if request.expires_at is not None and request.expires_at <= utcnow():
            raise InvalidInput("must be in the future", field="expiresAt")
        secret = generate_token()
        token = self._store(secret, name=request.name, role=request.role, actor=actor)
        token.expires_at = request.expires_at
        await self._session.flush()
        view = token_read(token)
        AuditTrail(self._session, actor).record(
            "token.create", RESOURCE, str(token.id), before=None, after=view.model_dump(mode="json")
        )
        return TokenCreated(**view.model_dump(), token=secret)

    async def revoke(self, token_id: uuid.UUID, actor: Principal) -> TokenRead:
        """Revoke a token at once; revoking twice changes nothing."""
        token = await self._tokens.get(token_id, for_update=True)
        if token is None:
            raise NotFound(f"no token with id {token_id}")
        before = token_read(token)
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            self._verified().forget_all_when_committed(self._session)
            after = token_read(token)
            AuditTrail(self._session, actor).record(
                "token.revoke",
                RESOURCE,
                str(token.id),
                before=before.model_dump(mode="json"),
                after=after.model_dump(mode="json"),
            )
            return after
        return before

    async def list_page(self, *, cursor: str | None, limit: int) -> TokenPage:
        position = decode_cursor(cursor, "after")
        after_id = _uuid_or_none(position["after"]) if position is not None else None
        tokens = await self._tokens.list_page(after_id=after_id, limit=limit + 1)
        now = utcnow()
        items = [token_read(token, now) for token in tokens[:limit]]
        next_cursor = (
            encode_cursor({"after": str(tokens[limit - 1].id)}) if len(tokens) > limit else None
        )
        return TokenPage(items=items, next_cursor=next_cursor)

    async def get(self, token_id: uuid.UUID) -> TokenRead:
        token = await self._tokens.get(token_id)
        if token is None:
            raise NotFound(f"no token with id {token_id}")
        return token_read(token)

    async def issue(self, *, name: str, role: Role, actor: Principal) -> str:
        """Issue a token outside the API (command line); returns the secret."""
        secret = generate_token()
        token = self._store(secret, name=name, role=role, actor=actor)
        await self._session.flush()
        AuditTrail(self._session, actor).record(
            "token.create",
            RESOURCE,
            str(token.id),
            before=None,
            after=token_read(token).model_dump(mode="json"),
        )
        return secret

    async def ensure_bootstrap(self, configured: str | None) -> str | None:
        """Make sure a first admin token exists; returns a generated secret to print once.

        A configured token is stored (once) if its digest is unknown, even when other tokens
        exist, so an operator can always regain access by configuration. Without one, a token is
        generated only while no token exists at all.
        """
        actor = Principal.system("bootstrap")
        if configured is not None:
            if len(configured) < MIN_TOKEN_LENGTH:
                raise ValueError(
                    f"PLACER_BOOTSTRAP_TOKEN must be at least {MIN_TOKEN_LENGTH} characters"
                )
            if await self._tokens.by_hash(hash_token(configured)) is None:
                self._store(configured, name=BOOTSTRAP_NAME, role=Role.ADMIN, actor=actor)
                await self._session.flush()
            return None
        if await self._tokens.any_exists():
            return None
        return await self.issue(name=BOOTSTRAP_NAME, role=Role.ADMIN, actor=actor)

    def _verified(self) -> VerifiedTokens:
        return verified_tokens(self._session.get_bind())

    def _store(self, secret: str, *, name: str, role: Role, actor: Principal) -> ApiToken:
        token = ApiToken(
            id=uuid.uuid4(),
            name=name,
            role=str(role),
            token_hash=hash_token(secret),
            token_prefix=display_prefix(secret),
            created_by=actor.name,
            created_at=utcnow(),
        )
        self._tokens.add(token)
        return token


def _uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise InvalidInput("the cursor is not one this service issued", field="cursor") from exc
