"""Remote monitoring over HTTP: status, history, telemetry, guidance, summary, refused messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.common import Page, PagingDep, client_ip
from api.deps import ConnDep, PrincipalDep, SettingsDep, Staff
from api.errors import ERROR_RESPONSES
from api.routes.monitoring_common import (
    EXAMPLE_ENT,
    DownlinkOut,
    Handler,
    PolicyDep,
    VisibleEnt,
    downlink_out,
    visible_filter,
)
from config.policy_monitoring import cached_policy
from domain.clock import utcnow
from domain.errors import NotFound, ValidationFailed
from domain.monitoring import EnterpriseId, Severity
from domain.presence import Presence
from domain.status import EnterpriseStatus
from monitor.guidance import ttl
from storage import alarms, audit, commitments, downlinks, monitoring, special_ops, telemetry_tags
from storage import monitoring_ingest as ingest_store
from storage import monitoring_queries as q

router = APIRouter(prefix="/api/v1", tags=["monitoring"], responses=ERROR_RESPONSES)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Validate the monitoring policy files when the API starts (a bad file stops it)."""
    cached_policy(app.state.settings.policy_dir)
    yield


async def _require_enterprise(conn: ConnDep, ent: str) -> str:
    name = await q.enterprise_name(conn, ent)
    if name is None:
        raise NotFound(f"enterprise {ent} is not in the directory")
    return name


class GasTestOut(BaseModel):
    """The latest gas analysis of an operation."""

    ts: datetime
    o2_pct: float | None
    lel_pct: float | None
    toxic_ppm: dict[str, float] | None
    ok: bool
    problems: list[str]


class SpecialOpOut(BaseModel):
    """An open special operation."""

    op_id: str
    op_type: str = Field(description="one of the eight GB 30871-2022 types")
    grade: str | None
    permit_no: str
    valid_from: datetime
    valid_to: datetime
    location: str
    guardian: str | None
    state: str = Field(description="active | paused")
    started_at: datetime
    paused_at: datetime | None
    last_gas_test_at: datetime | None
    needs_retest: bool
    interruptions: int
    last_gas_test: GasTestOut | None


class MaintenanceOut(BaseModel):
    """An open maintenance job."""

    maint_id: str
    scope: str = Field(description="plant (whole-plant overhaul) | unit (partial)")
    units: list[str]
    started_at: datetime
    planned_end: datetime | None


class StatusOut(BaseModel):
    """Current operation state of one enterprise."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "enterprise_id": EXAMPLE_ENT,
                    "name": "杭州恒泰化工有限公司",
                    "headline": "shutdown",
                    "mode": "shutdown",
                    "mode_since": "2026-03-01T08:00:00+08:00",
                    "shutdown_scope": "plant",
                    "shutdown_units": [],
                    "shutdown_reason": "年度大修",
                    "planned_resume": None,
                    "restart_request": None,
                    "trial_id": None,
                    "trial_started_at": None,
                    "trial_planned_end": None,
                    "maintenance": [],
                    "special_ops": [],
                    "online": True,
                    "reported_online": True,
                    "presence_at": "2026-03-01T07:00:00+08:00",
                    "last_seen": "2026-03-01T08:01:00+08:00",
                    "last_event_at": "2026-03-01T08:00:00+08:00",
                    "open_alarms": 1,
                    "worst_open_severity": "yellow",
                }
            ]
        }
    )

    enterprise_id: str
    name: str
    headline: str = Field(
        description="operating | shutdown | restart_requested | restart_approved | "
        "trial_production | maintenance_whole"
    )
    mode: str
    mode_since: datetime | None
    shutdown_scope: str | None
    shutdown_units: list[str]
    shutdown_reason: str | None
    planned_resume: datetime | None
    restart_request: str | None = Field(description="event id of the pending/approved request")
    trial_id: str | None
    trial_started_at: datetime | None
    trial_planned_end: datetime | None
    maintenance: list[MaintenanceOut]
    special_ops: list[SpecialOpOut]
    online: bool = Field(description="derived: reported online and active within the timeout")
    reported_online: bool
    presence_at: datetime | None
    last_seen: datetime | None = Field(description="last real activity (a last will is not one)")
    last_event_at: datetime | None
    open_alarms: int
    worst_open_severity: str | None


_SEVERITY_BY_RANK = {s.rank: s.value for s in Severity}


@router.get("/enterprises/{ent}/status", response_model=StatusOut)
async def get_status(ent: VisibleEnt, conn: ConnDep, settings: SettingsDep) -> StatusOut:
    """Operation state, open maintenance, special operations (with gas tests), presence."""
    name = await _require_enterprise(conn, ent)
    found = await monitoring.lock_statuses(conn, [ent], lock=False)
    st = found.get(EnterpriseId(ent)) or EnterpriseStatus(EnterpriseId(ent))
    pres = await q.presence(conn, ent)
    presence = Presence(
        pres.presence_online if pres else False,
        pres.presence_at if pres else None,
        pres.last_activity_at if pres else None,
    )
    ops_out = []
    for op in await special_ops.open_ops(conn, ent=ent):
        tests = await special_ops.tests_of(conn, ent, op.op_id)
        last = tests[0] if tests else None
        ops_out.append(
            SpecialOpOut(
                op_id=op.op_id,
                op_type=op.op_type.value,
                grade=op.grade,
                permit_no=op.permit_no,
                valid_from=op.valid_from,
                valid_to=op.valid_to,
                location=op.location,
                guardian=op.guardian,
                state=op.state.value,
                started_at=op.started_at,
                paused_at=op.paused_at,
                last_gas_test_at=op.last_gas_test_at,
                needs_retest=op.needs_retest,
                interruptions=op.interruptions,
                last_gas_test=GasTestOut(
                    ts=last.ts,
                    o2_pct=last.o2_pct,
                    lel_pct=last.lel_pct,
                    toxic_ppm=last.toxic_ppm,
                    ok=last.ok,
                    problems=last.problems,
                )
                if last
                else None,
            )
        )
    count, worst = await q.open_alarms(conn, ent)
    return StatusOut(
        enterprise_id=ent,
        name=name,
        headline=st.headline,
        mode=st.mode.value,
        mode_since=st.mode_since,
        shutdown_scope=st.shutdown_scope.value if st.shutdown_scope else None,
        shutdown_units=list(st.shutdown_units),
        shutdown_reason=st.shutdown_reason,
        planned_resume=st.planned_resume,
        restart_request=st.restart_request,
        trial_id=st.trial_id,
        trial_started_at=st.trial_started_at,
        trial_planned_end=st.trial_planned_end,
        maintenance=[
            MaintenanceOut(
                maint_id=m.maint_id,
                scope=m.scope.value,
                units=list(m.units),
                started_at=m.started_at,
                planned_end=m.planned_end,
            )
            for m in st.maintenance
        ],
        special_ops=ops_out,
        online=presence.is_online(utcnow(), timedelta(seconds=settings.presence_timeout_s)),
        reported_online=presence.reported_online,
        presence_at=presence.reported_at,
        last_seen=presence.last_activity_at,
        last_event_at=st.last_event_at,
        open_alarms=count,
        worst_open_severity=_SEVERITY_BY_RANK.get(worst) if worst else None,
    )


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
    await _require_enterprise(conn, ent)
    items, total = await q.events(
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
    await _require_enterprise(conn, ent)
    hi = to or utcnow()
    lo = from_ or hi - timedelta(hours=1)
    if lo >= hi:
        raise ValidationFailed("'from' must be before 'to'")
    if hi - lo > timedelta(days=400):
        raise ValidationFailed("at most 400 days per request")
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


class GuidanceIn(BaseModel):
    """Guidance to send to a site (published on …/guidance, retried until acknowledged)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"text": "请立即停止罐区动火作业。", "requires_ack": True}]
        },
    )

    text: str = Field(min_length=1, max_length=2000)
    requires_ack: bool = True
    ttl_hours: int | None = Field(default=None, ge=1, le=168)


@router.post(
    "/enterprises/{ent}/guidance",
    response_model=DownlinkOut,
    status_code=status.HTTP_201_CREATED,
)
async def send_guidance(
    ent: VisibleEnt,
    body: GuidanceIn,
    principal: Handler,
    conn: ConnDep,
    policy: PolicyDep,
    request: Request,
) -> DownlinkOut:
    """Queue guidance; the monitor publishes it with QoS 1 and retries until acknowledged."""
    await _require_enterprise(conn, ent)
    now = utcnow()
    life = timedelta(hours=body.ttl_hours) if body.ttl_hours else ttl(policy, "guidance")
    d = await downlinks.create(
        conn,
        channel="guidance",
        ent=ent,
        text=body.text,
        sender=principal.username,
        requires_ack=body.requires_ack,
        expires_at=now + life,
        now=now,
    )
    await audit.record(
        conn,
        principal=principal,
        action="guidance.send",
        target=f"enterprise:{ent}",
        after={"ref": d.ref, "text": d.text, "requires_ack": d.requires_ack},
        client_ip=client_ip(request),
    )
    return downlink_out(d)


@router.get("/enterprises/{ent}/guidance", response_model=Page[DownlinkOut])
async def list_guidance(
    ent: VisibleEnt,
    conn: ConnDep,
    paging: PagingDep,
    channel: Literal["guidance", "notice"] | None = None,
) -> Page[DownlinkOut]:
    """Guidance and notices sent to the site with their delivery state, newest first."""
    await _require_enterprise(conn, ent)
    items, total = await downlinks.list_downlinks(
        conn, ent=ent, channel=channel, limit=paging.limit, offset=paging.offset
    )
    return Page[DownlinkOut](
        items=[downlink_out(d) for d in items],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
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
    await _require_enterprise(conn, ent)
    rows = await commitments.recent(conn, ent, limit=days)
    return [CommitmentOut.model_validate(r) for r in rows]


class SummaryOut(BaseModel):
    """Counts for the dashboard."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "monitored": 120,
                    "online": 112,
                    "offline": 8,
                    "shutdown": 5,
                    "restart_requested": 2,
                    "restart_approved": 1,
                    "maintenance_whole": 1,
                    "maintenance_partial": 4,
                    "trial": 2,
                    "special_ops": {"hot_work": {"1": 3, "2": 6}, "confined_space": {"": 2}},
                    "special_ops_total": 11,
                    "alarms_open": {"red": 2, "orange": 5, "yellow": 9, "blue": 3},
                    "generated_at": "2026-03-01T08:00:00+08:00",
                }
            ]
        }
    )

    monitored: int
    online: int
    offline: int
    shutdown: int = Field(description="shut down, restart requested or approved")
    restart_requested: int
    restart_approved: int
    maintenance_whole: int
    maintenance_partial: int
    trial: int
    special_ops: dict[str, dict[str, int]] = Field(description="open operations by type and grade")
    special_ops_total: int
    alarms_open: dict[str, int]
    generated_at: datetime


@router.get("/status/summary", response_model=SummaryOut)
async def summary(_: Staff, conn: ConnDep, settings: SettingsDep) -> SummaryOut:
    """Shutdown, maintenance, special operations by type, trial production, offline counts."""
    now = utcnow()
    counts = await monitoring.summary_counts(
        conn, online_since=now - timedelta(seconds=settings.presence_timeout_s)
    )
    ops = await special_ops.count_open_by_type(conn)
    return SummaryOut(
        monitored=counts["monitored"],
        online=counts["online"],
        offline=counts["offline"],
        shutdown=counts["shutdown"],
        restart_requested=counts["restart_requested"],
        restart_approved=counts["restart_approved"],
        maintenance_whole=counts["maintenance_whole"],
        maintenance_partial=counts["maintenance_partial"],
        trial=counts["trial"],
        special_ops=ops,
        special_ops_total=sum(sum(g.values()) for g in ops.values()),
        alarms_open=await alarms.count_open_by_severity(conn),
        generated_at=now,
    )


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
    items, total = await ingest_store.list_rejected(
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
