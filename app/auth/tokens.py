"""Token material: generated from 256 random bits, stored only as a SHA-256 digest.

A digest of a high-entropy secret needs no salt or slow hash: it cannot be brute-forced.
"""

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "placer_"  # noqa: S105  (a marker that makes leaked tokens easy to scan for)
MIN_TOKEN_LENGTH = 32
_DISPLAY_PREFIX_LENGTH = len(TOKEN_PREFIX) + 6


def generate_token() -> str:
    """A new bearer token such as ``placer_Xk3…``."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The hex SHA-256 digest stored in place of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def display_prefix(token: str) -> str:
    """The first characters of a token, enough for a person to tell tokens apart."""
    return token[:_DISPLAY_PREFIX_LENGTH]


def digests_match(presented: str, stored: str) -> bool:
    """Compare digests in constant time."""
    return hmac.compare_digest(presented.encode(), stored.encode())
