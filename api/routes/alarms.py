"""Alarm handling: list, acknowledge, close with cause and action; the rule catalogue."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api.common import IdPath, Page, PagingDep, client_ip
from api.deps import ConnDep, LangDep, PrincipalDep
from api.errors import ERROR_RESPONSES
from api.routes.monitoring_common import AlarmOut, Handler, PolicyDep, alarm_out, visible_filter
from domain.alarms import Alarm
from domain.errors import NotFound
from domain.i18n import msg
from domain.users import Principal
from services import alarms as services
from services.changes import Actor
from storage import alarms, enterprises

router = APIRouter(prefix="/api/v1", tags=["alarms"], responses=ERROR_RESPONSES)


class CauseOut(BaseModel):
    """A cause category to pick when closing an alarm."""

    id: str
    label: str


class CausesOut(BaseModel):
    """The cause categories of config/alarm_rules.yaml."""

    items: list[CauseOut]


@router.get("/alarms/causes", response_model=CausesOut)
async def list_causes(_: PrincipalDep, policy: PolicyDep) -> CausesOut:
    """Cause categories for closing an alarm."""
    return CausesOut(items=[CauseOut(id=k, label=v) for k, v in policy.causes.items()])


class RuleOut(BaseModel):
    """One alarm rule: severity, acknowledgement deadline, escalation."""

    rule: str
    title: str
    severity: str
    category: str
    ack_within_min: int
    escalate_every_min: int
    max_escalations: int


@router.get("/alarms/rules", response_model=list[RuleOut])
async def list_rules(_: PrincipalDep, policy: PolicyDep) -> list[RuleOut]:
    """The rule catalogue (config/alarm_rules.yaml)."""
    return [
        RuleOut(
            rule=s.rule,
            title=s.title,
            severity=s.severity.value,
            category=s.category,
            ack_within_min=int(s.ack_within.total_seconds() // 60),
            escalate_every_min=int(s.escalate_every.total_seconds() // 60),
            max_escalations=s.max_escalations,
        )
        for s in policy.rules.values()
    ]


@router.get("/alarms", response_model=Page[AlarmOut])
async def list_alarms(
    principal: PrincipalDep,
    conn: ConnDep,
    policy: PolicyDep,
    paging: PagingDep,
    lang: LangDep,
    state: Literal["active", "acknowledged", "closed", "open"] | None = None,
    severity: Literal["red", "orange", "yellow", "blue"] | None = None,
    ent: Annotated[str | None, Query(max_length=64)] = None,
    rule: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[AlarmOut]:
    """Alarms, open ones first and most severe first (an enterprise account sees its own)."""
    page = await alarms.list_alarms(
        conn,
        state=None if state == "open" else state,
        open_only=True if state == "open" else None,
        severity=severity,
        enterprise_id=visible_filter(principal, ent),
        rule=rule,
        limit=paging.limit,
        offset=paging.offset,
    )
    names = await enterprises.names(conn, codes=[a.enterprise_id for a in page.items])
    return Page[AlarmOut](
        items=[alarm_out(a, policy, names.get(a.enterprise_id), lang) for a in page.items],
        total=page.total,
        limit=paging.limit,
        offset=paging.offset,
    )


async def _load(conn: ConnDep, principal: Principal, alarm_id: int, *, lock: bool) -> Alarm:
    alarm = await alarms.get(conn, alarm_id=alarm_id, for_update=lock)
    if alarm is None or not principal.may_see_enterprise(alarm.enterprise_id):
        raise NotFound(msg("alarm.not_found", alarm_id=alarm_id))
    return alarm


@router.get("/alarms/{alarm_id}", response_model=AlarmOut)
async def get_alarm(
    alarm_id: IdPath, principal: PrincipalDep, conn: ConnDep, policy: PolicyDep, lang: LangDep
) -> AlarmOut:
    """One alarm with its evidence."""
    a = await _load(conn, principal, alarm_id, lock=False)
    return alarm_out(a, policy, await enterprises.enterprise_name(conn, code=a.enterprise_id), lang)


class AckIn(BaseModel):
    """Acknowledging needs nothing but may carry a note (kept in the audit log)."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=500)


@router.post("/alarms/{alarm_id}/ack", response_model=AlarmOut)
async def acknowledge(
    alarm_id: IdPath,
    principal: Handler,
    conn: ConnDep,
    policy: PolicyDep,
    request: Request,
    lang: LangDep,
    body: AckIn | None = None,
) -> AlarmOut:
    """Acknowledge an active alarm (stops its escalation)."""
    after = await services.acknowledge(
        conn,
        before=await _load(conn, principal, alarm_id, lock=True),
        note=body.note if body else None,
        actor=Actor(principal, client_ip(request)),
    )
    return alarm_out(
        after, policy, await enterprises.enterprise_name(conn, code=after.enterprise_id), lang
    )


class CloseIn(BaseModel):
    """Closing needs the cause category and the action taken."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"cause_category": "equipment_fault", "action_taken": "更换氧含量探头并复测合格"}
            ]
        },
    )

    cause_category: str = Field(
        min_length=1, max_length=40, description="GET /api/v1/alarms/causes"
    )
    action_taken: str = Field(min_length=2, max_length=2000)


@router.post("/alarms/{alarm_id}/close", response_model=AlarmOut)
async def close(
    alarm_id: IdPath,
    body: CloseIn,
    principal: Handler,
    conn: ConnDep,
    policy: PolicyDep,
    request: Request,
    lang: LangDep,
) -> AlarmOut:
    """Close an alarm with its cause category and the action taken."""
    after = await services.close(
        conn,
        before=await _load(conn, principal, alarm_id, lock=True),
        cause_category=body.cause_category,
        action_taken=body.action_taken,
        causes=frozenset(policy.causes),
        actor=Actor(principal, client_ip(request)),
    )
    return alarm_out(
        after, policy, await enterprises.enterprise_name(conn, code=after.enterprise_id), lang
    )
