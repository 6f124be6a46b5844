"""The cache of verified tokens: trusted briefly, never past expiry or a revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.auth.principal import Principal
from app.auth.roles import Role
from app.auth.verified import VERIFIED_TOKEN_SECONDS, VerifiedTokens

NOW = datetime(2026, 1, 1, tzinfo=UTC)
VIEWER = Principal(name="ci", role=Role.VIEWER)


def test_a_verification_is_reused_until_it_is_too_old() -> None:
    clock = [100.0]
    cache = VerifiedTokens(clock=lambda: clock[0])
    cache.remember("digest", VIEWER, None, revocations_before=cache.revocations)

    clock[0] += VERIFIED_TOKEN_SECONDS - 0.1
    assert cache.principal("digest", NOW) == VIEWER
    clock[0] += 0.2
    assert cache.principal("digest", NOW) is None


def test_an_expired_token_is_not_reused() -> None:
    cache = VerifiedTokens()
    cache.remember(
        "digest", VIEWER, NOW + timedelta(seconds=1), revocations_before=cache.revocations
    )

    assert cache.principal("digest", NOW) == VIEWER
    assert cache.principal("digest", NOW + timedelta(seconds=1)) is None


def test_a_revocation_empties_the_cache_and_refuses_verifications_read_before_it() -> None:
    cache = VerifiedTokens()
    cache.remember("digest", VIEWER, None, revocations_before=cache.revocations)
    read_before_revocation = cache.revocations

    cache.forget_all()
    cache.remember("other", VIEWER, None, revocations_before=read_before_revocation)

    assert cache.principal("digest", NOW) is None
    assert cache.principal("other", NOW) is None
