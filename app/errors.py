# ruff: noqa: N818  (HTTP status names read better than NotFoundError, ConflictError...)
"""The error tree every service raises; one handler renders it as an RFC 9457 problem document.

    PlacerError
    ├── BadRequest (400)            malformed request that is not a schema violation
    ├── Unauthenticated (401)       missing, unknown, expired or revoked token
    ├── Forbidden (403)             the token's role is not admitted by the route
    ├── NotFound (404)
    ├── Conflict (409)              name taken, resource still referenced, request in flight
    ├── PreconditionFailed (412)    ``If-Match`` does not match the current ``ETag``
    ├── PayloadTooLarge (413)
    ├── InvalidInput (422)          a field's value breaks a rule; ``field`` names it
    └── ServiceUnavailable (503)    the database cannot be reached

Services raise these; routes never build error responses themselves.
"""

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://placer.dev/problems/"
PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"


class Problem(BaseModel):
    """An RFC 9457 problem document; ``field`` names the offending input when there is one."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=[f"{PROBLEM_TYPE_BASE}invalid-input"])
    title: str
    status: int
    detail: str | None = None
    field: str | None = Field(default=None, description="Offending field, as a dotted path.")
    instance: str | None = None


class PlacerError(Exception):
    """Base of every error a client is told about; subclasses fix status, slug and title."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.field = field
        self.headers = headers or {}
        self.extra = extra or {}

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document as a JSON-ready mapping."""
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
        }
        if self.detail is not None:
            body["detail"] = self.detail
        if self.field is not None:
            body["field"] = self.field
        if instance is not None:
            body["instance"] = instance
        body.update(self.extra)
        return body


class BadRequest(PlacerError):
    status = 400
    slug = "bad-request"
    title = "Bad request"


class Unauthenticated(PlacerError):
    status = 401
    slug = "unauthenticated"
    title = "Authentication required"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="placer"'})


class Forbidden(PlacerError):
    status = 403
    slug = "forbidden"
    title = "Role not allowed"


class NotFound(PlacerError):
    status = 404
    slug = "not-found"
    title = "Not found"


class MethodNotAllowed(PlacerError):
    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"


class Conflict(PlacerError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class RequestInFlight(Conflict):
    slug = "idempotency-request-in-flight"
    title = "A request with this Idempotency-Key is still being processed"


class PreconditionFailed(PlacerError):
    status = 412
    slug = "precondition-failed"
    title = "Precondition failed"


class PayloadTooLarge(PlacerError):
    status = 413
    slug = "payload-too-large"
    title = "Request body too large"


class UnsupportedMediaType(PlacerError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class InvalidInput(PlacerError):
    status = 422
    slug = "invalid-input"
    title = "Invalid input"


class IdempotencyKeyReused(InvalidInput):
    slug = "idempotency-key-reused"
    title = "Idempotency-Key was already used with a different request"


class ServiceUnavailable(PlacerError):
    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"


def problem_responses(*errors: type[PlacerError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries declaring that a route may answer with these errors."""
    responses: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        responses[error.status] = {
            "description": error.title,
            "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
        }
    return responses
