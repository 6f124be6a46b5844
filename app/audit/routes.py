"""``/v1/audit-events``: the audit trail, for admins and compliance officers."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from app.api.dependencies import Session, authorize
from app.api.pagination import DEFAULT_PAGE_SIZE, Cursor, PageSize
from app.audit.repository import AuditFilter
from app.audit.schemas import AuditEventPage
from app.audit.service import list_audit_events
from app.auth.roles import AUDIT_READERS

router = APIRouter(prefix="/v1/audit-events", tags=["audit"])


@router.get("", dependencies=[Depends(authorize(*AUDIT_READERS))])
async def list_events(
    session: Session,
    *,
    resource_type: Annotated[str | None, Query(alias="resourceType", max_length=50)] = None,
    resource_id: Annotated[str | None, Query(alias="resourceId", max_length=255)] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[AwareDatetime | None, Query(description="Inclusive, RFC 3339.")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Exclusive, RFC 3339.")] = None,
    cursor: Cursor = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
) -> AuditEventPage:
    """List recorded changes, newest first, filtered by resource, actor, action and time."""
    criteria = AuditFilter(resource_type, resource_id, actor, action, since, until)
    return await list_audit_events(session, criteria, cursor=cursor, limit=limit)
