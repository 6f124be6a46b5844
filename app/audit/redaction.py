"""Removes secrets from what the audit trail stores, whatever shape the payload has."""

from typing import Any

REDACTED = "[redacted]"
_SECRET_KEYS = frozenset(
    {
        "kubeconfig",
        "token",
        "cadata",
        "clientcertificatedata",
        "clientkeydata",
        "password",
        "secret",
        "credentialsciphertext",
    }
)


def _is_secret(key: str) -> bool:
    return key.replace("_", "").replace("-", "").lower() in _SECRET_KEYS


def redact(value: Any) -> Any:
    """A copy of ``value`` with the value of every secret-named key replaced by ``[redacted]``."""
    if isinstance(value, dict):
        return {
            key: REDACTED if _is_secret(str(key)) and item is not None else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value
