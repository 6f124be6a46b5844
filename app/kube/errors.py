"""Placer's errors for Kubernetes failures, and the one function that maps the client's to them.

Every failure of a call to a member cluster surfaces as one of these, never as an exception of
the ``kubernetes`` client or of ``urllib3``::

    KubeError
    ├── TemporaryKubeError         retry with backoff; ``retry_after`` is the server's hint
    │   ├── KubeUnreachableError   refused, unresolvable, timed out, reset, TLS handshake cut
    │   ├── KubeServerError        429, any 5xx but 501/505, 410 (expired list continuation)
    │   └── KubeConcurrencyError   409 on a stale resourceVersion; namespace being deleted
    └── PermanentKubeError         retrying the same request cannot succeed
        ├── KubeNotFoundError      404
        ├── KubeConflictError      409: server-side apply field conflicts, already exists
        ├── KubeForbiddenError     403
        ├── KubeUnauthorizedError  401
        ├── KubeInvalidError       400, 422; ``causes`` lists the fields the server names
        ├── KubeTLSError           the server's certificate or the CA is not acceptable
        ├── KubeRedirectError      3xx: Placer follows no redirects
        └── KubeAddressError       the server resolved to an address Placer may not reach

``message`` is the API server's own message when it sent one (a workload that cannot be
deployed shows it as its ``Failed`` reason); it never contains credentials.

    >>> try:
    ...     await driver.apply(manifests)
    ... except TemporaryKubeError as error:
    ...     schedule_retry(after=error.retry_after)
    ... except PermanentKubeError as error:
    ...     mark_failed(error.message)
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import urllib3.exceptions
from kubernetes.client.exceptions import ApiException

_MAX_MESSAGE_CHARS = 1000


@dataclass(frozen=True, slots=True)
class Cause:
    """One reason the API server gave for refusing a request (``details.causes[]``)."""

    field: str
    reason: str
    message: str


class KubeError(Exception):
    """A call to a Kubernetes API server failed.

    ``status`` is the HTTP status (``None`` when no response arrived), ``reason`` the
    Kubernetes ``Status.reason`` (``NotFound``, ``Invalid``, ...) when the server sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        causes: tuple[Cause, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.causes = causes


class TemporaryKubeError(KubeError):
    """The same request may succeed later; ``retry_after`` (seconds) is the server's hint."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        causes: tuple[Cause, ...] = (),
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, reason=reason, causes=causes)
        self.retry_after = retry_after


class KubeUnreachableError(TemporaryKubeError):
    """No complete response: the connection was refused, timed out, reset or cut mid-TLS."""


class KubeServerError(TemporaryKubeError):
    """The server is overloaded or failing (429, 5xx) or asked to restart a list (410)."""


class KubeConcurrencyError(TemporaryKubeError):
    """Another writer got there first, or the namespace is being deleted; re-read and retry."""


class PermanentKubeError(KubeError):
    """Retrying the same request cannot succeed; the workload shows ``Failed`` with ``message``."""


class KubeNotFoundError(PermanentKubeError):
    """The object, or the API it belongs to, does not exist."""


class KubeConflictError(PermanentKubeError):
    """Another field manager owns fields Placer applied, or the object already exists."""


class KubeForbiddenError(PermanentKubeError):
    """Placer's identity is not allowed to do this in the cluster (RBAC, admission)."""


class KubeUnauthorizedError(PermanentKubeError):
    """The cluster does not accept Placer's credentials."""


class KubeInvalidError(PermanentKubeError):
    """The server refused the request as malformed or invalid; ``causes`` name the fields."""


class KubeTLSError(PermanentKubeError):
    """The server's certificate does not verify against the cluster's CA, or TLS is misused."""


class KubeRedirectError(PermanentKubeError):
    """The server answered with a redirect, which Placer never follows."""


class KubeAddressError(PermanentKubeError):
    """The server's host resolved to an address outside the networks Placer may reach."""


_PERMANENT_BY_STATUS: dict[int, type[PermanentKubeError]] = {
    400: KubeInvalidError,
    401: KubeUnauthorizedError,
    403: KubeForbiddenError,
    404: KubeNotFoundError,
    409: KubeConflictError,
    422: KubeInvalidError,
}
# 501 (not implemented) and 505 (HTTP version) are the 5xx answers a retry cannot change.
_PERMANENT_SERVER_STATUSES = frozenset({501, 505})
# Causes the API server attaches to a 403 or 409 that clear up on their own.
_TRANSIENT_CAUSES = frozenset({"NamespaceTerminating"})
# OpenSSL reasons that mean the handshake was cut off rather than refused.
_INTERRUPTED_TLS = (
    "EOF occurred",
    "UNEXPECTED_EOF",
    "unexpected eof",
    "timed out",
    "Connection reset",
    "connection reset",
)


def kube_error(error: BaseException) -> KubeError:
    """Return the :class:`KubeError` that ``error`` (from the client or urllib3) stands for.

    ``error`` is an ``ApiException``, a ``urllib3`` error (``MaxRetryError`` included) or an
    ``OSError``; a :class:`KubeError` is returned unchanged.
    """
    if isinstance(error, KubeError):
        return error
    verification = _certificate_verification_error(error)
    if verification is not None:
        detail = verification.verify_message or str(verification)
        return KubeTLSError(f"the server's certificate is not trusted: {detail}")
    if isinstance(error, ApiException):
        return _from_api_exception(error)
    if isinstance(error, urllib3.exceptions.MaxRetryError) and error.reason is not None:
        return kube_error(error.reason)
    if isinstance(error, urllib3.exceptions.SSLError | ssl.SSLError):
        return _from_tls_failure(str(error))
    if isinstance(error, urllib3.exceptions.LocationParseError):
        return PermanentKubeError(f"the server URL is not valid: {error}")
    if isinstance(error, urllib3.exceptions.HTTPError | OSError):
        return KubeUnreachableError(_describe_transport_failure(error))
    raise TypeError(f"{type(error).__name__} is not a Kubernetes client error") from error


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
        if isinstance(current, urllib3.exceptions.MaxRetryError) and current.reason is not None:
            pending.append(current.reason)


def _certificate_verification_error(error: BaseException) -> ssl.SSLCertVerificationError | None:
    for linked in _chain(error):
        if isinstance(linked, ssl.SSLCertVerificationError):
            return linked
    return None


def _from_tls_failure(text: str) -> KubeError:
    summary = _shorten(" ".join(text.split()))
    if any(marker in text for marker in _INTERRUPTED_TLS):
        return KubeUnreachableError(f"the TLS handshake was interrupted: {summary}")
    return KubeTLSError(f"TLS with the server failed: {summary}")


def _describe_transport_failure(error: BaseException) -> str:
    if isinstance(error, urllib3.exceptions.NameResolutionError):
        return f"the server's host name does not resolve: {error}"
    if isinstance(error, urllib3.exceptions.ConnectTimeoutError) and not isinstance(
        error, urllib3.exceptions.NewConnectionError
    ):
        return "connecting to the server timed out"
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        return f"cannot connect to the server: {_shorten(str(error))}"
    if isinstance(error, urllib3.exceptions.ReadTimeoutError):
        return "the server did not answer in time"
    return f"the connection to the server failed: {_shorten(str(error))}"


def _from_api_exception(error: ApiException) -> KubeError:
    status = error.status if isinstance(error.status, int) else 0
    if status == 0:
        # The client reports TLS failures as a status-0 ApiException holding only text.
        text = str(error.reason or "")
        if text.startswith("SSLError"):
            return _from_tls_failure(text)
        return PermanentKubeError(f"the request could not be sent: {_shorten(text)}")
    body = _status_body(error.body)
    message = _message(body, error, status)
    reason = _string(body.get("reason")) or None
    details = body.get("details")
    if not isinstance(details, dict):
        details = {}
    causes = tuple(_causes(details))
    retry_after = _retry_after(details, error.headers)
    if 300 <= status < 400:
        location = (error.headers or {}).get("Location")
        target = f" to {location}" if location else ""
        return KubeRedirectError(
            f"the server redirected (HTTP {status}){target}; Placer follows no redirects",
            status=status,
        )
    transient_cause = any(cause.reason in _TRANSIENT_CAUSES for cause in causes)
    if status in (403, 409) and transient_cause:
        return KubeConcurrencyError(
            message, status=status, reason=reason, causes=causes, retry_after=retry_after
        )
    if status == 409 and reason == "Conflict" and not _is_field_conflict(causes):
        return KubeConcurrencyError(
            message, status=status, reason=reason, causes=causes, retry_after=retry_after
        )
    if status in (410, 429) or (500 <= status < 600 and status not in _PERMANENT_SERVER_STATUSES):
        return KubeServerError(
            message, status=status, reason=reason, causes=causes, retry_after=retry_after
        )
    error_type = _PERMANENT_BY_STATUS.get(status, PermanentKubeError)
    return error_type(message, status=status, reason=reason, causes=causes)


def _is_field_conflict(causes: tuple[Cause, ...]) -> bool:
    return any(cause.reason == "FieldManagerConflict" for cause in causes)


def _status_body(body: object) -> Mapping[str, Any]:
    if not isinstance(body, str | bytes) or not body:
        return {}
    try:
        document = json.loads(body)
    except ValueError:
        return {}
    if isinstance(document, dict) and document.get("kind") == "Status":
        return document
    return {}


def _message(body: Mapping[str, Any], error: ApiException, status: int) -> str:
    message = _string(body.get("message"))
    if message:
        return _shorten(message)
    raw = error.body.decode(errors="replace") if isinstance(error.body, bytes) else error.body
    text = " ".join(str(raw or "").split())
    if text:
        return _shorten(f"HTTP {status}: {text}")
    return f"HTTP {status} {error.reason or ''}".rstrip()


def _causes(details: Mapping[str, Any]) -> Iterator[Cause]:
    for cause in details.get("causes") or ():
        if isinstance(cause, dict):
            yield Cause(
                field=_string(cause.get("field")),
                reason=_string(cause.get("reason")),
                message=_string(cause.get("message")),
            )


def _retry_after(details: Mapping[str, Any], headers: Mapping[str, str] | None) -> float | None:
    header = (headers or {}).get("Retry-After")
    if header is not None:
        try:
            return max(float(header), 0.0)
        except ValueError:
            pass
    seconds = details.get("retryAfterSeconds")
    if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > 0:
        return float(seconds)
    return None


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""


def _shorten(text: str) -> str:
    if len(text) <= _MAX_MESSAGE_CHARS:
        return text
    return text[: _MAX_MESSAGE_CHARS - 1] + "…"
