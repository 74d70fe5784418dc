"""Sampling plans: list, save (validated against the sampling policy), run or freeze a draw."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from api.common import Page, PagingDep, client_ip
from api.deps import ConnDep, PoliciesDep, SettingsDep, Staff, require_roles
from api.draw_models import DrawRequest, DrawSummary, PlanOut, audit_summary, plan_out, summary
from api.errors import ERROR_RESPONSES
from config.policy_sampling import PlanFile
from config.settings import Settings
from domain.clock import utcnow
from domain.users import Principal, Role
from services import draws as draw_service
from services import plans
from services.changes import Actor
from services.draws import Period
from storage import draws

router = APIRouter(prefix="/api/v1/plans", tags=["plans"], responses=ERROR_RESPONSES)

Editor = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR))]
PLAN_ID = r"^[A-Za-z0-9_.:-]{1,64}$"
PlanIdPath = Annotated[str, Path(pattern=PLAN_ID, description="plan id")]


class PlanDetail(PlanOut):
    """A plan with its draws, newest first."""

    draws: list[DrawSummary]


def default_period(plan: draws.StoredPlan, settings: Settings) -> Period:
    """A window of the plan's length starting today in the bureau's zone."""
    start = utcnow().astimezone(settings.tz).date()
    return Period(start, start + timedelta(days=plan.window_days - 1))


@router.get("", response_model=Page[PlanOut])
async def list_plans(
    _: Staff, conn: ConnDep, paging: PagingDep, active: bool | None = None
) -> Page[PlanOut]:
    """Plans by id."""
    plans = await draws.list_plans(conn, active=active)
    page = plans[paging.offset : paging.offset + paging.limit]
    return Page[PlanOut](
        items=[plan_out(p) for p in page],
        total=len(plans),
        limit=paging.limit,
        offset=paging.offset,
    )


@router.post("", response_model=PlanOut, status_code=201)
async def save_plan(
    body: PlanFile, editor: Editor, conn: ConnDep, policies: PoliciesDep, request: Request
) -> PlanOut:
    """Create or replace a plan (422 naming every rule it breaks)."""
    stored = await plans.save_plan(
        conn, spec=body, policy=policies.sampling, actor=Actor(editor, client_ip(request))
    )
    return plan_out(stored)


@router.get("/{plan_id}", response_model=PlanDetail)
async def get_plan(plan_id: PlanIdPath, _: Staff, conn: ConnDep) -> PlanDetail:
    """One plan and its draws."""
    plan = await draws.get_plan(conn, plan_id=plan_id)
    records = await draws.list_draws(conn, plan_id=plan_id, limit=100)
    return PlanDetail(**plan_out(plan).model_dump(), draws=[summary(d) for d in records])


@router.post("/{plan_id}/draw", response_model=DrawSummary)
async def draw_plan(
    plan_id: PlanIdPath,
    body: DrawRequest,
    editor: Editor,
    conn: ConnDep,
    settings: SettingsDep,
    request: Request,
) -> DrawSummary:
    """Freeze a window (publishing the commitment), or draw a window frozen earlier with the
    public value named at freeze. One draw per plan and window: asking again returns the record;
    drawing a drawn window again needs a supervisor's `repeat` reason (both stay published).
    Only the test setting freezes and draws in one request, without a public value."""
    plan = await draws.get_plan(conn, plan_id=plan_id)
    if body.period:
        period = Period(body.period.start, body.period.end)
    else:
        period = default_period(plan, settings)
    source = (
        body.public_source.to_domain()
        if body.public_source
        else draw_service.plan_source(plan, utcnow())
    )
    record = await plans.draw_plan(
        conn,
        plan_id=plan_id,
        period=period,
        public_value=body.public_value,
        freeze_only=body.freeze_only,
        policy=draw_service.draw_policy(settings),
        source=source,
        witnesses=[[w.label, w.commitment] for w in body.witnesses],
        repeat=draw_service.Repeat(body.repeat.reason, body.repeat.note) if body.repeat else None,
        audit_after=audit_summary,
        actor=Actor(editor, client_ip(request)),
    )
    return summary(record)
