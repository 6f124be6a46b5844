"""Queries on the audit trail."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.db.models import AuditEvent
from app.db.repository import Repository


@dataclass(frozen=True)
class AuditFilter:
    """Which events to list; every given criterion must hold."""

    resource_type: str | None = None
    resource_id: str | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditRepository(Repository):
    """Appends and lists audit events, newest first."""

    def add(self, event: AuditEvent) -> None:
        self.session.add(event)

    async def list_page(
        self, criteria: AuditFilter, *, before_id: int | None, limit: int
    ) -> Sequence[AuditEvent]:
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if criteria.resource_type is not None:
            query = query.where(AuditEvent.resource_type == criteria.resource_type)
        if criteria.resource_id is not None:
            query = query.where(AuditEvent.resource_id == criteria.resource_id)
        if criteria.actor is not None:
            query = query.where(AuditEvent.actor == criteria.actor)
        if criteria.action is not None:
            query = query.where(AuditEvent.action == criteria.action)
        if criteria.since is not None:
            query = query.where(AuditEvent.occurred_at >= criteria.since)
        if criteria.until is not None:
            query = query.where(AuditEvent.occurred_at < criteria.until)
        if before_id is not None:
            query = query.where(AuditEvent.id < before_id)
        return (await self.session.scalars(query)).all()
