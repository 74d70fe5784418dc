"""Draw services for the API and the jobs: save plans, freeze a period, draw once, staff it."""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from config.policy_sampling import PlanFile, SamplingPolicy
from domain.directory import Enterprise, Officer
from domain.draw import Drawn, Frozen, commitment_of, draw, freeze, load_frozen
from domain.draw.canonical import paused_gc
from domain.draw.snapshot import Row, rules_from_json, rules_to_json
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.inspection_list import InspectionList, TaskNotice, build_lists, notices
from domain.plan import DrawRules, Plan, PublicValueSource
from storage import directory, draws, inspections, live
from storage.draws import DrawRecord, StoredPlan

log = logging.getLogger(__name__)

#: How far back a scheduled draw still catches up after downtime.
CATCH_UP = timedelta(days=35)


@dataclass(frozen=True, slots=True)
class Period:
    """A draw period: its label (part of the unique key) and the inspection window."""

    label: str
    start: date
    end: date


async def save_plan(
    conn: AsyncConnection[Any], *, spec: PlanFile, policy: SamplingPolicy, active: bool = True
) -> Plan:
    """Validate a plan against the policy and store it with its resolved rules template."""
    plan = spec.to_plan(policy)
    schedule = plan.schedule
    if schedule is not None:
        cron_trigger(schedule.cron, schedule.timezone)  # refuse a bad expression now
    await draws.save_plan(
        conn,
        values={
            "plan_id": plan.plan_id,
            "title": plan.title,
            "spec": spec.model_dump(mode="json"),
            "rules": rules_to_json(plan.rules),
            "cron": schedule.cron if schedule else None,
            "timezone": schedule.timezone if schedule else "Asia/Shanghai",
            "window_days": schedule.window_days if schedule else 30,
            "period_format": schedule.period_format if schedule else "%Y-%m",
            "public_value_source": (
                schedule.public_value if schedule else PublicValueSource.NONE
            ).value,
            "active": active,
        },
    )
    return plan


def cron_trigger(expression: str, timezone: str) -> Any:
    """APScheduler's CronTrigger for a five-field cron expression in a time zone."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        return CronTrigger.from_crontab(expression, timezone=ZoneInfo(timezone))
    except (ValueError, KeyError) as exc:
        raise ValidationFailed(f"schedule: {expression!r} is not a cron expression: {exc}") from exc


def latest_fire_time(plan: StoredPlan, now: datetime) -> datetime | None:
    """The plan's last scheduled time at or before `now` (not before the plan existed)."""
    if plan.cron is None:
        return None
    trigger = cron_trigger(plan.cron, plan.timezone)
    start = max(plan.created_at, now - CATCH_UP)
    last, fire = None, trigger.get_next_fire_time(None, start)
    for _ in range(10_000):  # draws are monthly or so; a minutely cron would stop here
        if fire is None or fire > now:
            break
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return last


def period_of(plan: StoredPlan, fire_time: datetime) -> Period:
    """The period a scheduled time opens: label by the plan's format, window from that day."""
    local = fire_time.astimezone(ZoneInfo(plan.timezone))
    start = local.date()
    return Period(
        local.strftime(plan.period_format), start, start + timedelta(days=plan.window_days - 1)
    )


def rules_for(plan: StoredPlan, period: Period) -> DrawRules:
    """The plan's rules with the period's window."""
    return replace(rules_from_json(plan.rules), period_start=period.start, period_end=period.end)


def _freeze(
    plan_id: str, period: str, rules: DrawRules, ents: list[Row], offs: list[Row], secret: bytes
) -> Frozen:
    with paused_gc():
        return freeze(
            plan_id=plan_id,
            period=period,
            rules=rules,
            enterprise_rows=ents,
            officer_rows=offs,
            commitment=commitment_of(secret),
        )


def _draw(frozen_document: bytes, secret: bytes, public_value: str) -> Drawn:
    with paused_gc():
        return draw(load_frozen(frozen_document), secret=secret, public_value=public_value)


async def freeze_period(
    conn: AsyncConnection[Any], *, plan_id: str, period: Period, actor: str
) -> DrawRecord:
    """Freeze the population of (plan, period) and publish the commitment; idempotent."""
    existing = await draws.find_draw(conn, plan_id=plan_id, period=period.label)
    if existing is not None:
        return existing
    plan = await draws.get_plan(conn, plan_id=plan_id)
    rules = rules_for(plan, period)
    ents, offs = await directory.population(conn, period_start=period.start, period_end=period.end)
    secret = secrets.token_bytes(32)
    frozen = await asyncio.to_thread(_freeze, plan_id, period.label, rules, ents, offs, secret)
    draw_id = await draws.insert_frozen(
        conn,
        frozen=frozen,
        secret=secret,
        period_start=period.start,
        period_end=period.end,
        frozen_by=actor,
    )
    if draw_id is None:  # another process froze it between our check and our insert
        found = await draws.find_draw(conn, plan_id=plan_id, period=period.label)
        assert found is not None
        return found
    log.info(
        "froze %s %s as draw %d (commitment %s)", plan_id, period.label, draw_id, frozen.commitment
    )
    await live.publish_change(
        conn,
        kind="draw.frozen",
        enterprise_id=None,
        payload={
            "draw_id": draw_id,
            "plan_id": plan_id,
            "period": period.label,
            "commitment": frozen.commitment,
        },
    )
    return await draws.get_draw(conn, draw_id=draw_id)


async def perform_draw(
    conn: AsyncConnection[Any], *, draw_id: int, public_value: str, actor: str
) -> DrawRecord:
    """Draw a frozen record once: reveal the secret, staff teams, create the inspections."""
    async with conn.transaction():
        frozen_document, secret = await draws.frozen_for_draw(conn, draw_id=draw_id)
        drawn = await asyncio.to_thread(_draw, frozen_document, secret, public_value)
        await draws.record_draw(conn, draw_id=draw_id, drawn=drawn, drawn_by=actor)
        record = await draws.get_draw(conn, draw_id=draw_id)
        rules = drawn.frozen.rules
        await inspections.create_for_draw(
            conn,
            draw_id=draw_id,
            teams=drawn.teams,
            departments=rules.team.departments,
            planned_from=record.period_start,
            planned_to=record.period_end,
        )
        await live.publish_change(
            conn,
            kind="draw.drawn",
            enterprise_id=None,
            payload={
                "draw_id": draw_id,
                "plan_id": record.plan_id,
                "period": record.period,
                "status": record.status,
                "selected": len(drawn.selected),
                "teams": len(drawn.teams),
            },
        )
    log.info(
        "drew %s %s (draw %d): %d selected, %d teams, %d unstaffed",
        record.plan_id,
        record.period,
        draw_id,
        len(drawn.selected),
        len(drawn.teams),
        len({u["enterprise"] for u in drawn.unstaffed}),
    )
    return record


async def draw_now(
    conn: AsyncConnection[Any], *, plan_id: str, period: Period, public_value: str, actor: str
) -> DrawRecord:
    """On-demand draw (authorised staff): freeze the period if needed, then draw it."""
    record = await freeze_period(conn, plan_id=plan_id, period=period, actor=actor)
    if record.state == "drawn":
        return record
    return await perform_draw(conn, draw_id=record.id, public_value=public_value, actor=actor)


async def draw_due_plan(
    conn: AsyncConnection[Any], *, plan: StoredPlan, now: datetime
) -> DrawRecord | None:
    """If the plan's scheduled time has come: freeze its period, and draw unless witnessed."""
    fire = latest_fire_time(plan, now)
    if fire is None:
        return None
    period = period_of(plan, fire)
    record = await draws.find_draw(conn, plan_id=plan.plan_id, period=period.label)
    witnessed = plan.public_value_source != PublicValueSource.NONE.value
    if record is not None and (record.state == "drawn" or witnessed):
        return None
    record = await freeze_period(conn, plan_id=plan.plan_id, period=period, actor="scheduler")
    if not witnessed and record.state == "frozen":
        record = await perform_draw(conn, draw_id=record.id, public_value="", actor="scheduler")
    return record


async def run_due_draws(pool: AsyncConnectionPool, *, now: datetime) -> list[DrawRecord]:
    """Every active scheduled plan, each in its own transaction; failures logged, then raised."""
    async with pool.connection() as conn:
        plans = await draws.list_plans(conn, active=True)
    done: list[DrawRecord] = []
    failed: list[str] = []
    for plan in plans:
        try:
            async with pool.connection() as conn:
                record = await draw_due_plan(conn, plan=plan, now=now)
        except Exception:
            log.exception("scheduled draw of plan %s failed", plan.plan_id)
            failed.append(plan.plan_id)
            continue
        if record is not None:
            done.append(record)
    if failed:
        raise RuntimeError(f"scheduled draws failed for plan(s) {', '.join(failed)}")
    return done


async def inspection_lists(conn: AsyncConnection[Any], *, draw_id: int) -> list[InspectionList]:
    """The inspection list of every staffed enterprise of a drawn record, in team order."""
    record = await draws.get_draw(conn, draw_id=draw_id)
    if record.state != "drawn":
        raise Conflict(f"draw {draw_id} has not been drawn yet")
    picked = [s for s in await draws.selections(conn, draw_id=draw_id) if s.staffed]
    codes = [s.credit_code for s in picked]
    people = {x for s in picked for x in (*s.officers, *s.experts)}
    ents: dict[str, Enterprise] = {
        e.credit_code: e for e in await directory.enterprises_by_code(conn, codes=codes)
    }
    offs: dict[str, Officer] = {
        o.officer_id: o for o in await directory.officers_by_id(conn, ids=sorted(people))
    }
    missing = sorted(set(codes) - set(ents)) + sorted(people - set(offs))
    if missing:
        raise NotFound(f"no longer in the directory: {', '.join(missing[:5])}")
    return build_lists(
        plan_id=record.plan_id,
        period=record.period,
        window_from=record.period_start,
        window_to=record.period_end,
        teams=[(s.credit_code, s.officers, s.experts) for s in picked],
        enterprises=ents,
        officers=offs,
        items=await directory.list_items(conn),
    )


async def task_notices(
    conn: AsyncConnection[Any], *, draw_id: int, authority: str, prefix: str
) -> list[TaskNotice]:
    """A task notice per team of a drawn record (authority and number prefix as printed)."""
    return notices(
        await inspection_lists(conn, draw_id=draw_id), authority=authority, prefix=prefix
    )
