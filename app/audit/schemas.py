"""API shapes of audit events."""

from datetime import datetime
from typing import Any

from app.api.schemas import ApiResponse


class AuditEventRead(ApiResponse):
    """One recorded change."""

    id: int
    occurred_at: datetime
    actor: str
    actor_role: str | None
    action: str
    resource_type: str
    resource_id: str
    request_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditEventPage(ApiResponse):
    """One page of audit events, newest first."""

    items: list[AuditEventRead]
    next_cursor: str | None
