"""Licences and their renewal (measure 20): duty staff's list of upcoming expiries, and an
enterprise's own licences with the reminder of their current stage."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import ConnDep, LangDep, PoliciesDep, SettingsDep, Staff
from api.errors import ERROR_RESPONSES
from api.routes.monitoring_common import VisibleEnt, require_enterprise
from domain import licences as rules
from domain.clock import utcnow
from domain.i18n import render, term
from storage import licences as store

router = APIRouter(prefix="/api/v1", tags=["licences"], responses=ERROR_RESPONSES)


class LicenceOut(BaseModel):
    """A licence with its renewal deadline, current reminder stage and renewal rule."""

    enterprise_id: str
    enterprise_name: str
    kind: str
    number: str
    valid_to: date
    deadline: date = Field(description="last day to apply for renewal (calendar months)")
    days_left: int
    stage: str = Field(description="none | first | deadline | last | expired")
    stage_label: str
    reminder: str | None = Field(description="the text of the current stage's reminder")
    authority: str
    procedure: str
    conditions: str
    sources: list[str]
    last_sent_stage: str | None = None
    last_sent_at: datetime | None = None


async def _licences(
    conn: ConnDep, policies: PoliciesDep, today: date, lang: str, ent: str | None
) -> list[LicenceOut]:
    schedule = policies.licences
    last: dict[tuple[str, date], store.Sent] = {}
    for s in await store.sent(conn, ent=ent):
        last[(s.subject, s.due)] = s
    out = []
    for h in await store.held(conn, ent=ent):
        for raw in h.licences:
            lic = rules.parse(h.enterprise_id, raw)
            if lic is None:
                continue
            rule = schedule.rule(lic.kind)
            stage = rules.stage_on(lic.valid_to, today, rule, schedule)
            sent = last.get((lic.subject, lic.valid_to))
            out.append(
                LicenceOut(
                    enterprise_id=h.enterprise_id,
                    enterprise_name=h.name,
                    kind=lic.kind,
                    number=lic.number,
                    valid_to=lic.valid_to,
                    deadline=rules.deadline(lic.valid_to, rule),
                    days_left=(lic.valid_to - today).days,
                    stage=stage.name,
                    stage_label=term("licence_stage", stage.name, lang),
                    reminder=None
                    if stage.name == "none"
                    else render(rules.text(lic, stage.name, today, schedule), lang),
                    authority=rule.authority,
                    procedure=rule.procedure,
                    conditions=rule.conditions,
                    sources=list(rule.sources),
                    last_sent_stage=sent.stage if sent else None,
                    last_sent_at=sent.created_at if sent else None,
                )
            )
    return sorted(out, key=lambda x: (x.valid_to, x.enterprise_id, x.kind, x.number))


@router.get("/licences/expiring", response_model=list[LicenceOut])
async def expiring(
    _: Staff,
    conn: ConnDep,
    policies: PoliciesDep,
    settings: SettingsDep,
    lang: LangDep,
    within_days: Annotated[int, Query(ge=1, le=3660)] = 180,
) -> list[LicenceOut]:
    """Licences of every enterprise expiring within `within_days` (or expired), soonest first,
    with their stage and the last reminder sent — the duty list of upcoming expiries."""
    today = utcnow().astimezone(settings.tz).date()
    until = today + timedelta(days=within_days)
    return [x for x in await _licences(conn, policies, today, lang, None) if x.valid_to <= until]


@router.get("/enterprises/{ent}/licences", response_model=list[LicenceOut])
async def of_enterprise(
    ent: VisibleEnt, conn: ConnDep, policies: PoliciesDep, settings: SettingsDep, lang: LangDep
) -> list[LicenceOut]:
    """The enterprise's licences with the renewal deadline, stage and reminder text."""
    await require_enterprise(conn, ent)
    today = utcnow().astimezone(settings.tz).date()
    return await _licences(conn, policies, today, lang, ent)
