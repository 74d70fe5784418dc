"""Remote monitoring over HTTP: current status of an enterprise and the dashboard summary."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ConnDep, LangDep, SettingsDep, Staff, pool_of
from api.errors import ERROR_RESPONSES
from api.live_cache import LiveCache
from api.routes.monitoring_common import EXAMPLE_ENT, VisibleEnt
from config.settings import Settings
from domain.clock import utcnow
from domain.i18n import op_label, render
from domain.presence import Presence
from services import status as status_service
from storage import enterprise_status
from storage.errors import amapped_errors

router = APIRouter(prefix="/api/v1", tags=["monitoring"], responses=ERROR_RESPONSES)


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
    grade: str | None = Field(
        description="wire code of the grade managed (raised one level by 升级管理 at night or on "
        "holidays); people read `label`"
    )
    reported_grade: str | None = Field(
        default=None, description="the grade the site reported, when 升级管理 raised it"
    )
    label: str = Field(
        description="type and grade as the standard names them, in the caller's language "
        "(特级动火作业, Ⅳ级高处作业, 受限空间作业)"
    )
    permit_no: str = Field(description="安全作业票 number")
    valid_from: datetime
    valid_to: datetime
    location: str
    guardian: str | None
    guardian_cert: str | None = None
    oxygen_enriched: bool = Field(default=False, description="the permit records 富氧环境")
    camera: str | None = None
    serves_op: str | None = Field(default=None, description="temp_power: the operation it serves")
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


@router.get("/enterprises/{ent}/status", response_model=StatusOut)
async def get_status(ent: VisibleEnt, lang: LangDep, request: Request) -> Response:
    """Operation state, open maintenance, special operations (with gas tests), presence."""
    settings: Settings = request.app.state.settings

    async def body_of() -> bytes:
        async with amapped_errors(), pool_of(request).connection() as conn:
            status = await _status(conn, ent, settings, lang)
        return status.model_dump_json().encode()

    # The rendered body per enterprise and language, dropped by the change feed
    # (api/live_cache.py): a repeated read within 2 s costs no connection and no query; after
    # that only the presence row is re-read (one query), and everything at least every 5 min
    # (a safety net: every write that changes a status announces itself on the feed).
    # api/status_fast_path.py answers the same cached reads before routing.
    cache: LiveCache | None = getattr(request.app.state, "live_cache", None)
    if cache is None:
        body = await body_of()
    else:
        refresh = status_refresher(pool_of(request), ent, settings)
        body = await cache.get(status_cache_name(lang), ent, body_of, refresh)
    return Response(body, media_type="application/json")


def status_cache_name(lang: str) -> str:
    """The live-cache name of the status documents in one language."""
    return f"status:{lang}"


def status_refresher(
    pool: AsyncConnectionPool, ent: str, settings: Settings
) -> Callable[[bytes], Awaitable[bytes]]:
    """Bring a cached status body up to date by re-reading only the presence row."""

    async def refreshed(old: bytes) -> bytes:
        async with amapped_errors():
            pres = await enterprise_status.presence_now(pool, ent=ent)
        doc = StatusOut.model_validate_json(old)
        now = doc.model_copy(update=_presence_fields(pres, settings))
        return old if now == doc else now.model_dump_json().encode()

    return refreshed


def _presence_fields(
    pres: enterprise_status.PresenceRow | None, settings: Settings
) -> dict[str, Any]:
    """The presence part of a status: reported state, last activity, and `online`, which is
    derived from the clock (so a cached status re-reads only this part when it ages)."""
    presence = Presence(
        pres.presence_online if pres else False,
        pres.presence_at if pres else None,
        pres.last_activity_at if pres else None,
    )
    return {
        "online": presence.is_online(utcnow(), timedelta(seconds=settings.presence_timeout_s)),
        "reported_online": presence.reported_online,
        "presence_at": presence.reported_at,
        "last_seen": presence.last_activity_at,
    }


async def _status(conn: AsyncConnection[Any], ent: str, settings: Settings, lang: str) -> StatusOut:
    """The status document of one enterprise (services.status.enterprise_now, shaped)."""
    now = await status_service.enterprise_now(conn, ent=ent)
    st = now.status
    return StatusOut(
        enterprise_id=ent,
        name=now.name,
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
        special_ops=[_op_out(o, lang) for o in now.open_ops],
        **_presence_fields(now.presence, settings),
        last_event_at=st.last_event_at,
        open_alarms=now.open_alarms,
        worst_open_severity=now.worst_open_severity.value if now.worst_open_severity else None,
    )


def _op_out(open_op: status_service.OpenOp, lang: str) -> SpecialOpOut:
    op, last = open_op.op, open_op.last_test
    return SpecialOpOut(
        op_id=op.op_id,
        op_type=op.op_type.value,
        grade=op.grade,
        reported_grade=op.reported_grade,
        label=render(op_label(op.op_type, op.grade), lang),
        permit_no=op.permit_no,
        valid_from=op.valid_from,
        valid_to=op.valid_to,
        location=op.location,
        guardian=op.guardian,
        guardian_cert=op.guardian_cert,
        oxygen_enriched=op.oxygen_enriched,
        camera=op.camera,
        serves_op=op.serves_op,
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
    found = await status_service.summary(
        conn, online_since=now - timedelta(seconds=settings.presence_timeout_s)
    )
    counts, ops = found.counts, found.special_ops
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
        alarms_open=found.alarms_open,
        generated_at=now,
    )
