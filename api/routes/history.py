"""Monitoring history over HTTP: operation events, telemetry series, commitments, refused
messages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field

from api.common import Page, PagingDep
from api.deps import ConnDep, PrincipalDep
from api.errors import ERROR_RESPONSES
from api.routes.monitoring_common import VisibleEnt, require_enterprise, visible_filter
from domain.clock import utcnow
from domain.errors import ValidationFailed
from domain.i18n import msg
from storage import commitments, rejected_messages, telemetry_tags
from storage import events as event_store

router = APIRouter(prefix="/api/v1", tags=["monitoring"], responses=ERROR_RESPONSES)


class EventOut(BaseModel):
    """One stored operation event (the payload as the site sent it)."""

    ts: datetime
    event_id: str
    type: str
    payload: dict[str, Any]
    received_at: datetime


@router.get("/enterprises/{ent}/events", response_model=Page[EventOut])
async def list_events(
    ent: VisibleEnt,
    conn: ConnDep,
    paging: PagingDep,
    from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    to: AwareDatetime | None = None,
    type: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]+$")] = None,
) -> Page[EventOut]:
    """Operation events, newest first."""
    await require_enterprise(conn, ent)
    items, total = await event_store.list_events(
        conn, ent=ent, lo=from_, hi=to, type_=type, limit=paging.limit, offset=paging.offset
    )
    return Page[EventOut](
        items=[EventOut(**vars_of(e)) for e in items],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )


def vars_of(obj: Any) -> dict[str, Any]:
    """Fields of a slotted dataclass as a dict."""
    return {name: getattr(obj, name) for name in obj.__slots__}


class PointOut(BaseModel):
    """One point: a raw reading (min = max = value, n = 1) or a bucket."""

    ts: datetime
    value: float | None = Field(description="the reading, or the bucket's average")
    min: float | None
    max: float | None
    n: int
    quality: str


class SeriesOut(BaseModel):
    """Readings of one tag."""

    enterprise_id: str
    tag: str
    bucket: str
    items: list[PointOut]


MAX_POINTS = 10000


@router.get("/enterprises/{ent}/telemetry", response_model=SeriesOut)
async def get_telemetry(
    ent: VisibleEnt,
    conn: ConnDep,
    tag: Annotated[str, Query(pattern=r"^[A-Za-z0-9_.:/#-]{1,64}$")],
    from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    to: AwareDatetime | None = None,
    bucket: Literal["raw", "1m", "5m", "15m", "1h"] = "raw",
) -> SeriesOut:
    """Readings of one tag between from and to (default: the last hour); bucket=1h uses the
    hourly rollup."""
    await require_enterprise(conn, ent)
    hi = to or utcnow()
    lo = from_ or hi - timedelta(hours=1)
    if lo >= hi:
        raise ValidationFailed(msg("query.from_after_to"))
    if hi - lo > timedelta(days=400):
        raise ValidationFailed(msg("query.range_too_long"))
    points = await telemetry_tags.series(
        conn, ent=ent, tag=tag, lo=lo, hi=hi, bucket=bucket, limit=MAX_POINTS
    )
    return SeriesOut(
        enterprise_id=ent,
        tag=tag,
        bucket=bucket,
        items=[
            PointOut(ts=p.ts, value=p.avg, min=p.min, max=p.max, n=p.n, quality=p.quality)
            for p in points
        ],
    )


class CommitmentOut(BaseModel):
    """A daily risk commitment (承诺公告) as received."""

    date: str
    units: dict[str, int]
    special_ops: list[dict[str, Any]]
    maintenance: int
    contractor_work: int
    trial_production: bool
    startup_shutdown: bool
    risk_level: int = Field(ge=1, le=4)
    committed_by: str
    committed_at: datetime


@router.get("/enterprises/{ent}/commitments", response_model=list[CommitmentOut])
async def list_commitments(
    ent: VisibleEnt,
    conn: ConnDep,
    days: Annotated[int, Query(ge=1, le=366)] = 7,
) -> list[CommitmentOut]:
    """The latest daily commitments, newest first."""
    await require_enterprise(conn, ent)
    rows = await commitments.recent(conn, ent=ent, limit=days)
    return [CommitmentOut.model_validate(r) for r in rows]


class RejectedOut(BaseModel):
    """A refused uplink message."""

    id: int
    received_at: datetime
    topic: str
    enterprise_id: str | None
    code: str = Field(description="reject code (docs/protocol.md)")
    reason: str
    ref: str | None
    payload_excerpt: str = Field(description="start of the raw payload (UTF-8, invalid bytes as �)")
    payload_size: int


@router.get("/rejected-messages", response_model=Page[RejectedOut])
async def list_rejected(
    principal: PrincipalDep,
    conn: ConnDep,
    paging: PagingDep,
    ent: Annotated[str | None, Query(max_length=64)] = None,
    code: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[RejectedOut]:
    """Refused messages, newest first (an enterprise account sees its own)."""
    items, total = await rejected_messages.list_rejected(
        conn,
        enterprise_id=visible_filter(principal, ent),
        code=code,
        limit=paging.limit,
        offset=paging.offset,
    )
    return Page[RejectedOut](
        items=[
            RejectedOut(
                id=r.id,
                received_at=r.received_at,
                topic=r.topic,
                enterprise_id=r.enterprise_id,
                code=r.code,
                reason=r.reason,
                ref=r.ref,
                payload_excerpt=bytes(r.payload).decode("utf-8", "replace").replace("\x00", ""),
                payload_size=r.payload_size,
            )
            for r in items
        ],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )
