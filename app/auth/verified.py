"""Tokens verified a moment ago, so that most requests skip the token query.

A process trusts a verification for at most ``VERIFIED_TOKEN_SECONDS``. A token revoked
through this process stops working at once: the revocation empties the cache when it commits,
and a verification read before that commit is not kept. A token revoked through another
process (another worker or replica) stops working there within ``VERIFIED_TOKEN_SECONDS``.
Expiry is checked on every use, so an expired token never passes.
"""

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, event
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal

VERIFIED_TOKEN_SECONDS = 5.0
MAX_VERIFIED_TOKENS = 10_000


@dataclass(frozen=True, slots=True)
class _Verification:
    principal: Principal
    expires_at: datetime | None
    trusted_until: float


class VerifiedTokens:
    """Principals of recently verified token digests, for one database."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._by_digest: dict[str, _Verification] = {}
        self._revocations = 0

    @property
    def revocations(self) -> int:
        """How many revocations this process has committed; pass it back to ``remember``."""
        return self._revocations

    def principal(self, digest: str, now: datetime) -> Principal | None:
        """The principal of a recent verification still trusted and unexpired, else None."""
        verification = self._by_digest.get(digest)
        if verification is None:
            return None
        if verification.trusted_until < self._clock() or (
            verification.expires_at is not None and verification.expires_at <= now
        ):
            del self._by_digest[digest]
            return None
        return verification.principal

    def remember(
        self,
        digest: str,
        principal: Principal,
        expires_at: datetime | None,
        *,
        revocations_before: int,
    ) -> None:
        """Keep a verification that began when ``revocations`` was ``revocations_before``.

        One that began before a revocation committed may have read the token as still valid.
        """
        if revocations_before != self._revocations:
            return
        if len(self._by_digest) >= MAX_VERIFIED_TOKENS:
            self._by_digest.clear()
        self._by_digest[digest] = _Verification(
            principal, expires_at, self._clock() + VERIFIED_TOKEN_SECONDS
        )

    def forget_all_when_committed(self, session: AsyncSession) -> None:
        """Empty the cache once ``session`` commits the revocation it holds."""
        event.listen(
            session.sync_session, "after_commit", lambda _session: self.forget_all(), once=True
        )

    def forget_all(self) -> None:
        """Trust no verification made so far, nor one still being read."""
        self._revocations += 1
        self._by_digest.clear()


_per_engine: "weakref.WeakKeyDictionary[Engine, VerifiedTokens]" = weakref.WeakKeyDictionary()


def verified_tokens(bind: Engine | Connection) -> VerifiedTokens:
    """The cache of tokens verified against the database of ``bind`` (a session's)."""
    engine = bind.engine
    cache = _per_engine.get(engine)
    if cache is None:
        cache = _per_engine[engine] = VerifiedTokens()
    return cache
