"""Writing and reading the audit trail, inside the transaction of the change it records."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.pagination import decode_cursor, encode_cursor
from app.audit.redaction import redact
from app.audit.repository import AuditFilter, AuditRepository
from app.audit.schemas import AuditEventPage, AuditEventRead
from app.auth.principal import Principal
from app.db.base import utcnow
from app.db.models import AuditEvent
from app.observability.logging import request_id_var


class AuditTrail:
    """Records changes made by one principal; the event commits or rolls back with the change."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self._repository = AuditRepository(session)
        self._principal = principal

    def record(
        self,
        action: str,
        resource_type: str,
        resource_id: str,
        *,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
    ) -> None:
        """Append one event; secrets in ``before`` and ``after`` are redacted first."""
        self._repository.add(
            AuditEvent(
                occurred_at=utcnow(),
                actor=self._principal.name,
                actor_role=str(self._principal.role),
                action=action,
                resource_type=resource_type,
                resource_id=resource_id,
                request_id=request_id_var.get(),
                before=redact(dict(before)) if before is not None else None,
                after=redact(dict(after)) if after is not None else None,
            )
        )


async def list_audit_events(
    session: AsyncSession, criteria: AuditFilter, *, cursor: str | None, limit: int
) -> AuditEventPage:
    """One page of events matching ``criteria``, newest first."""
    position = decode_cursor(cursor, "before")
    before_id = position["before"] if position is not None else None
    if before_id is not None and not isinstance(before_id, int):
        before_id = None
    events = await AuditRepository(session).list_page(
        criteria, before_id=before_id, limit=limit + 1
    )
    page = [AuditEventRead.model_validate(event, from_attributes=True) for event in events[:limit]]
    next_cursor = encode_cursor({"before": events[limit - 1].id}) if len(events) > limit else None
    return AuditEventPage(items=page, next_cursor=next_cursor)
