"""The audit log, for administrators: who did what to which target, when and from where."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel

from api.common import Page, PagingDep
from api.deps import AdminOnly, ConnDep
from api.errors import ERROR_RESPONSES
from domain.errors import ValidationFailed
from domain.i18n import msg
from storage import audit_search

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=ERROR_RESPONSES)


class AuditOut(BaseModel):
    """One audited action."""

    id: int
    ts: datetime
    user_id: int | None = None
    username: str
    role: str
    action: str
    target: str
    before: Any = None
    after: Any = None
    client_ip: str | None = None


@router.get("", response_model=Page[AuditOut])
async def search_audit(
    _: AdminOnly,
    conn: ConnDep,
    paging: PagingDep,
    target: Annotated[
        str | None, Query(max_length=200, description="e.g. `user:12`, or `user` for all users")
    ] = None,
    username: Annotated[str | None, Query(max_length=64)] = None,
    role: Annotated[str | None, Query(max_length=20)] = None,
    action: Annotated[
        str | None, Query(max_length=100, description="e.g. `alarm.ack`, or `alarm` for all")
    ] = None,
    since: Annotated[AwareDatetime | None, Query(description="RFC 3339, inclusive")] = None,
    until: Annotated[AwareDatetime | None, Query(description="RFC 3339, exclusive")] = None,
) -> Page[AuditOut]:
    """Audit entries, newest first."""
    if since is not None and until is not None and until <= since:
        raise ValidationFailed(msg("query.until_before_since"))
    rows, total = await audit_search.search(
        conn,
        target=target,
        username=username,
        role=role,
        action=action,
        since=since,
        until=until,
        limit=paging.limit,
        offset=paging.offset,
    )
    items = [
        AuditOut(
            id=r.id,
            ts=r.ts,
            user_id=r.user_id,
            username=r.username,
            role=r.role,
            action=r.action,
            target=r.target,
            before=r.before,
            after=r.after,
            client_ip=r.client_ip,
        )
        for r in rows
    ]
    return Page[AuditOut](items=items, total=total, limit=paging.limit, offset=paging.offset)
