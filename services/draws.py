"""Draw services for the API and the jobs: save plans, freeze a period, draw once, staff it."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from config.policy_sampling import PlanFile, PublicSourceSpec, SamplingPolicy
from config.settings import Settings
from domain.clock import utcnow
from domain.draw import Drawn, Frozen, Record, commitment_of, draw, freeze, load_frozen
from domain.draw.canonical import paused_gc
from domain.draw.public_value import PublicSource, no_public_source, period_label, pseudonym
from domain.draw.snapshot import Row, rules_from_json, rules_to_json, screen_enterprise_rows
from domain.draw.verifier import REPEAT_REASONS
from domain.errors import Conflict, ValidationFailed
from domain.i18n import msg
from domain.plan import DrawRules, Plan, PublicValueSource
from services.changes import announce
from storage import directory, draws, inspections
from storage.draws import DrawRecord, StoredPlan

log = logging.getLogger(__name__)
#: Told (enterprise code, reason) for each enterprise row left out of an unattended draw.
BadRow = Callable[[str, str], None]

#: How far back a scheduled draw still catches up after downtime.
CATCH_UP = timedelta(days=35)


@dataclass(frozen=True, slots=True)
class Period:
    """A draw period: its window, and the label the window has (`2025-03`, or a range)."""

    start: date
    end: date

    @property
    def label(self) -> str:
        """`YYYY-MM` for a calendar month, else `YYYY-MM-DD/YYYY-MM-DD` (docs §3)."""
        return period_label(self.start, self.end)


@dataclass(frozen=True, slots=True)
class DrawPolicy:
    """What the settings decide for draws (built once from the settings and passed in)."""

    auditor_key: bytes
    #: Demo and test settings only: a draw without a public value, frozen and drawn at once.
    test_setting: bool = False


def draw_policy(settings: Settings) -> DrawPolicy:
    """The draw policy of these settings; ConfigurationError when the auditor key is unset
    outside demo mode (no draw can freeze then)."""
    return DrawPolicy(settings.auditor_key(), settings.draw_allows_no_public_value)


@dataclass(frozen=True, slots=True)
class Repeat:
    """A supervisor's justification for drawing a window again: a published code, a note."""

    reason: str
    note: str


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
        raise ValidationFailed(
            msg("plan.schedule_invalid", expression=expression, exc=exc)
        ) from exc


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
    """The period a scheduled time opens: `window_days` days from that day."""
    start = fire_time.astimezone(ZoneInfo(plan.timezone)).date()
    return Period(start, start + timedelta(days=plan.window_days - 1))


def rules_for(plan: StoredPlan, period: Period) -> DrawRules:
    """The plan's rules with the period's window."""
    rules = rules_from_json(plan.rules, template=True)
    return replace(rules, period_start=period.start, period_end=period.end)


def _freeze(
    plan_id: str,
    period: str,
    rules: DrawRules,
    ents: list[Row],
    offs: list[Row],
    secret: bytes,
    record: Record,
) -> Frozen:
    with paused_gc():
        return freeze(
            plan_id=plan_id,
            period=period,
            rules=rules,
            enterprise_rows=ents,
            officer_rows=offs,
            commitment=commitment_of(secret),
            record=record,
        )


def _draw(
    frozen_document: bytes, secret: bytes, public_value: str, witnesses: list[bytes]
) -> Drawn:
    with paused_gc():
        fz = load_frozen(frozen_document)
        return draw(fz, secret=secret, public_value=public_value, witness_secrets=witnesses)


def _attempt(
    same_window: list[DrawRecord], repeat: Repeat | None
) -> tuple[int, dict[str, str] | None]:
    """The attempt number and the published repeat member; refuses an unjustified repeat."""
    if repeat is None:
        return 1, None
    if not same_window:
        raise ValidationFailed(msg("draw.nothing_to_repeat"))
    if repeat.reason not in REPEAT_REASONS:
        raise ValidationFailed(
            msg("draw.repeat_reason_unknown", repeat_reasons=", ".join(REPEAT_REASONS))
        )
    if not repeat.note.strip() or len(repeat.note) > 500:
        raise ValidationFailed(msg("draw.repeat_note_required"))
    last = same_window[-1]
    return last.attempt + 1, {"previous_commitment": last.commitment, "reason": repeat.reason}


async def freeze_period(
    conn: AsyncConnection[Any],
    *,
    plan_id: str,
    period: Period,
    actor: str,
    policy: DrawPolicy,
    source: PublicSource | None = None,
    witnesses: list[list[str]] | None = None,
    repeat: Repeat | None = None,
    now: datetime | None = None,
    on_bad_row: BadRow | None = None,
) -> DrawRecord:
    """Freeze (plan, window) and publish the commitment. One draw per window: asking again
    returns the record already frozen; another attempt needs a supervisor's `repeat`; a window
    overlapping another of the plan is refused. An enterprise row the verifier would refuse
    fails the freeze, or — unattended, with `on_bad_row` — is left out of the population and
    reported (code, reason) so that staff are alarmed and may repeat the draw after repair."""
    moment = (now or utcnow()).astimezone(UTC).replace(microsecond=0)
    async with conn.transaction():
        await draws.lock_plan(conn, plan_id=plan_id)
        found = await draws.find_draws(conn, plan_id=plan_id, start=period.start, end=period.end)
        same = [d for d in found if (d.period_start, d.period_end) == (period.start, period.end)]
        other = [d for d in found if d not in same]
        if other:
            raise Conflict(
                msg(
                    "draw.period_overlap",
                    label=period.label,
                    period=other[0].period,
                    plan_id=plan_id,
                )
            )
        if same and repeat is None:
            return same[-1]
        attempt, repeated = _attempt(same, repeat)
        if source is None:
            if not policy.test_setting:
                raise ValidationFailed(msg("draw.public_value_required"))
            source = no_public_source(moment)
        # The record states times to the second; the database keeps exactly what it states.
        source = replace(
            source, read_after=source.read_after.astimezone(UTC).replace(microsecond=0)
        )
        record = Record(source, moment, attempt, repeated, witnesses or [])
        plan = await draws.get_plan(conn, plan_id=plan_id)
        rules = rules_for(plan, period)
        ents, offs = await directory.population(
            conn, period_start=period.start, period_end=period.end
        )
        if on_bad_row is not None:
            ents, bad = screen_enterprise_rows(ents)
            for code, why in bad:
                log.warning(
                    "draw of %s %s: enterprise %s left out: %s", plan_id, period.label, code, why
                )
                on_bad_row(code, why)
        alias = {
            r[0]: pseudonym(policy.auditor_key, plan_id, period.label, attempt, r[0]) for r in offs
        }
        rows = sorted(([alias[r[0]], *r[1:]] for r in offs), key=itemgetter(0))
        secret = secrets.token_bytes(32)
        frozen = await asyncio.to_thread(
            _freeze, plan_id, period.label, rules, ents, rows, secret, record
        )
        draw_id = await draws.insert_frozen(
            conn,
            frozen=frozen,
            secret=secret,
            period_start=period.start,
            period_end=period.end,
            frozen_by=actor,
            pseudonyms={a: o for o, a in alias.items()},
            repeat_note=repeat.note if repeat else None,
        )
        if draw_id is None:  # unreachable under the plan lock; kept as a guard
            raise Conflict(
                msg("draw.attempt_frozen", plan_id=plan_id, label=period.label, attempt=attempt)
            )
        await announce(
            conn,
            changes=[
                (
                    "draw.frozen",
                    None,
                    {
                        "draw_id": draw_id,
                        "plan_id": plan_id,
                        "period": period.label,
                        "attempt": attempt,
                        "commitment": frozen.commitment,
                    },
                )
            ],
        )
    log.info(
        "froze %s %s attempt %d as draw %d (commitment %s)",
        plan_id,
        period.label,
        attempt,
        draw_id,
        frozen.commitment,
    )
    return await draws.get_draw(conn, draw_id=draw_id)


async def perform_draw(
    conn: AsyncConnection[Any],
    *,
    draw_id: int,
    public_value: str,
    actor: str,
    witness_secrets: list[bytes] | None = None,
    now: datetime | None = None,
) -> DrawRecord:
    """Draw a frozen record once, no earlier than its source's read-after time: reveal the
    secret, staff teams, create the inspections (teams by officer id, pseudonyms mapped back)."""
    async with conn.transaction():
        frozen_document, secret = await draws.frozen_for_draw(conn, draw_id=draw_id)
        record = await draws.get_draw(conn, draw_id=draw_id)
        if record.read_after is not None and (now or utcnow()) < record.read_after:
            raise Conflict(
                msg("draw.public_value_too_early", read_after=record.read_after.isoformat())
            )
        drawn = await asyncio.to_thread(
            _draw, frozen_document, secret, public_value, witness_secrets or []
        )
        officer_of = await draws.pseudonyms(conn, draw_id=draw_id)
        await draws.record_draw(
            conn, draw_id=draw_id, drawn=drawn, drawn_by=actor, officer_of=officer_of
        )
        record = await draws.get_draw(conn, draw_id=draw_id)
        teams = [
            replace(
                t,
                officers=tuple(officer_of[o] for o in t.officers),
                experts=tuple(officer_of[o] for o in t.experts),
            )
            for t in drawn.teams
        ]
        await inspections.create_for_draw(
            conn,
            draw_id=draw_id,
            teams=teams,
            departments=drawn.frozen.rules.team.departments,
            planned_from=record.period_start,
            planned_to=record.period_end,
        )
        await announce(
            conn,
            changes=[
                (
                    "draw.drawn",
                    None,
                    {
                        "draw_id": draw_id,
                        "plan_id": record.plan_id,
                        "period": record.period,
                        "status": record.status,
                        "selected": len(drawn.selected),
                        "teams": len(drawn.teams),
                    },
                )
            ],
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
    conn: AsyncConnection[Any],
    *,
    plan_id: str,
    period: Period,
    public_value: str,
    actor: str,
    policy: DrawPolicy,
    source: PublicSource | None = None,
    repeat: Repeat | None = None,
) -> DrawRecord:
    """On-demand draw (authorised staff). Outside test settings the freeze and the draw are two
    requests: the first freezes and publishes the commitment, a later one draws."""
    existing = await draws.find_draws(conn, plan_id=plan_id, start=period.start, end=period.end)
    if existing and existing[-1].state == "drawn" and repeat is None:
        raise Conflict(msg("draw.already_drawn_repeat", plan_id=plan_id, label=period.label))
    record = await freeze_period(
        conn,
        plan_id=plan_id,
        period=period,
        actor=actor,
        policy=policy,
        source=source,
        repeat=repeat,
    )
    published_before = record.id in {d.id for d in existing}
    if record.state == "drawn" or not (policy.test_setting or published_before):
        return record  # frozen now: the commitment is published before anyone draws
    return await perform_draw(conn, draw_id=record.id, public_value=public_value, actor=actor)


def plan_source(plan: StoredPlan, frozen_at: datetime) -> PublicSource | None:
    """The public value source a plan names for a scheduled freeze (read after a delay)."""
    spec = plan.spec.get("public_value")
    if not spec:
        return None
    return PublicSourceSpec.model_validate(spec).to_domain(frozen_at)


async def draw_due_plan(
    conn: AsyncConnection[Any],
    *,
    plan: StoredPlan,
    now: datetime,
    policy: DrawPolicy,
    on_bad_row: BadRow | None = None,
) -> DrawRecord | None:
    """If the plan's scheduled time has come: freeze its period (the draw follows when staff
    enter the public value); in test settings a plan without a source draws at once."""
    fire = latest_fire_time(plan, now)
    if fire is None:
        return None
    period = period_of(plan, fire)
    found = await draws.find_draws(conn, plan_id=plan.plan_id, start=period.start, end=period.end)
    if found:
        return None
    source = plan_source(plan, now)
    if source is None and not policy.test_setting:
        log.warning(
            "plan %s names no public value source: its scheduled draw is refused", plan.plan_id
        )
        return None
    record = await freeze_period(
        conn,
        plan_id=plan.plan_id,
        period=period,
        actor="scheduler",
        policy=policy,
        source=source,
        now=now,
        on_bad_row=on_bad_row,
    )
    if source is None and record.state == "frozen":
        try:
            record = await perform_draw(conn, draw_id=record.id, public_value="", actor="scheduler")
        except Conflict:  # another scheduler drew it between our freeze and our draw
            return None
    return record


async def run_due_draws(
    pool: AsyncConnectionPool,
    *,
    now: datetime,
    policy: DrawPolicy,
    on_bad_row: BadRow | None = None,
) -> list[DrawRecord]:
    """Every active scheduled plan, each in its own transaction; failures logged, then raised;
    enterprise rows the verifier would refuse are left out and reported to `on_bad_row`."""
    async with pool.connection() as conn:
        plans = await draws.list_plans(conn, active=True)
    done: list[DrawRecord] = []
    failed: list[str] = []
    for plan in plans:
        try:
            async with pool.connection() as conn:
                record = await draw_due_plan(
                    conn, plan=plan, now=now, policy=policy, on_bad_row=on_bad_row
                )
        except Exception:
            log.exception("scheduled draw of plan %s failed", plan.plan_id)
            failed.append(plan.plan_id)
            continue
        if record is not None:
            done.append(record)
    if failed:
        raise RuntimeError(f"scheduled draws failed for plan(s) {', '.join(failed)}")
    return done
