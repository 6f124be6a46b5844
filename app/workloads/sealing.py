"""Secret values in stored manifests, encrypted at rest with the service's :class:`SecretBox`.

Every value of a Secret's ``data`` and ``stringData`` is stored as ``{"sealed": "<Fernet
token>"}``; the keys stay readable, so reads and the audit trail can list them (redacted).
Only the reconciler unseals, right before applying. Submitted values must be strings (see
:mod:`app.workloads.manifests`), so a sealed value is never mistaken for a submitted one.

    >>> stored = seal_secrets(manifests, box)
    >>> unseal_secrets(stored, box) == manifests
    True
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from app.security.secretbox import SecretBox
from app.workloads.manifests import SECRET_FIELDS

SEALED = "sealed"


def seal_secrets(manifests: Sequence[Mapping[str, Any]], box: SecretBox) -> list[dict[str, Any]]:
    """The manifests with every Secret value encrypted, as they are stored."""

    def seal(value: Any) -> Any:
        return {SEALED: box.encrypt(value.encode()).decode("ascii")}

    return _map_secret_values(manifests, seal)


def unseal_secrets(manifests: Sequence[Mapping[str, Any]], box: SecretBox) -> list[dict[str, Any]]:
    """Stored manifests with their Secret values decrypted, as submitted.

    Raises :class:`~app.security.secretbox.DecryptionError` when a value was sealed under a
    key this box does not hold.
    """

    def unseal(value: Any) -> Any:
        if isinstance(value, Mapping) and isinstance(value.get(SEALED), str):
            return box.decrypt(value[SEALED].encode("ascii")).decode()
        # Stored before values were sealed.
        return value

    return _map_secret_values(manifests, unseal)


def _map_secret_values(
    manifests: Sequence[Mapping[str, Any]], change: Callable[[Any], Any]
) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for manifest in manifests:
        copy = dict(manifest)
        if copy.get("kind") == "Secret":
            for field in SECRET_FIELDS:
                values = copy.get(field)
                if isinstance(values, Mapping):
                    copy[field] = {key: change(value) for key, value in values.items()}
        result.append(copy)
    return result
