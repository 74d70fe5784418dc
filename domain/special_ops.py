"""Special operations (特殊作业, GB 30871-2022): permits, guardians, gas tests, interruptions.

The numbers (permit validity, gas-test timing, gas limits, calendars) come from
config/special_operations.yaml; this module only applies them. Texts are catalogue messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from domain.alarms import Rule
from domain.i18n import Message, msg, op_label
from domain.monitoring import NOTHING, EnterpriseId, RuleOutcome, clear_one, raise_one
from domain.special_ops_gas import gas_problems, is_acceptable
from domain.special_ops_model import (
    ANY_GRADE,
    GRADES,
    Combustible,
    GasLimits,
    GasReading,
    OpStart,
    OpState,
    OpType,
    SpecialOp,
    SpecialOpsPolicy,
    ToxicLimit,
    TypePolicy,
    UpgradeCalendar,
)
from domain.special_ops_oversight import (
    check_guardian_conflict,
    check_temp_power,
    check_video,
    managed_grade,
    parents_of,
)

__all__ = [
    "ANY_GRADE",
    "GRADES",
    "Combustible",
    "GasLimits",
    "GasReading",
    "OpStart",
    "OpState",
    "OpType",
    "SpecialOp",
    "SpecialOpsPolicy",
    "ToxicLimit",
    "TypePolicy",
    "UpgradeCalendar",
    "check_expiry",
    "check_guardian_conflict",
    "check_stale_test",
    "check_temp_power",
    "end",
    "gas_problems",
    "gas_test",
    "is_acceptable",
    "pause",
    "periodic",
    "reading_problems",
    "resume",
    "start",
]


def _reading_outcome(op: SpecialOp, reading: GasReading, limits: GasLimits) -> RuleOutcome:
    problems = gas_problems(reading, limits, oxygen_enriched=op.oxygen_enriched)
    ent = op.enterprise_id
    if problems:
        return raise_one(
            ent,
            Rule.GAS_OUT_OF_LIMITS,
            op.subject,
            msg("alarm.gas_out_of_limits", op=_name(op), op_id=op.op_id, problems=problems),
            at=reading.ts,
            problems=[p.as_json() for p in problems],
            reading=_reading_evidence(reading),
        )
    return clear_one(ent, Rule.GAS_OUT_OF_LIMITS, op.subject, at=reading.ts)


def _fresh(
    test_at: datetime | None, at: datetime, tp: TypePolicy, policy: SpecialOpsPolicy
) -> bool:
    """An acceptable analysis within the window before `at` (and on its calendar day where
    the type needs one before each day's work: 每日动火前)."""
    window = tp.gas_test_before
    if test_at is None or window is None:
        return window is None
    if not at - window <= test_at <= at + _SKEW:
        return False
    if tp.op_type in policy.daily_test_types:
        tz = policy.upgrade.tz
        return test_at.astimezone(tz).date() == at.astimezone(tz).date()
    return True


def start(
    ev: OpStart,
    ent: EnterpriseId,
    prior_test: GasReading | None,
    policy: SpecialOpsPolicy,
    *,
    video_live: bool = False,
    others: Iterable[SpecialOp] = (),
) -> tuple[SpecialOp, RuleOutcome]:
    """Open an operation; check grade, 升级管理, permit window, guardian, gas test and video.
    `others` are the enterprise's other open operations (guardians, temporary-power parents)."""
    tp = policy.types[ev.op_type]
    outcome = NOTHING
    grade = ev.grade
    subject = f"op:{ev.op_id}"
    if ev.op_type in GRADES and grade is None:
        grade = GRADES[ev.op_type][0]
        outcome += raise_one(
            ent,
            Rule.GRADE_MISSING,
            subject,
            msg(
                "alarm.grade_missing",
                op_type=ev.op_type,
                op_id=ev.op_id,
                op=op_label(ev.op_type, grade),
            ),
            at=ev.ts,
            assumed_grade=grade,
        )
    managed, why = managed_grade(ev.op_type, grade, ev.ts, policy)
    test = ev.gas_test or prior_test
    ok = is_acceptable(test, policy.gas, oxygen_enriched=ev.oxygen_enriched)
    op = SpecialOp(
        enterprise_id=ent,
        op_id=ev.op_id,
        op_type=ev.op_type,
        grade=managed,
        permit_no=ev.permit_no,
        valid_from=ev.valid_from,
        valid_to=ev.valid_to,
        location=ev.location,
        guardian=ev.guardian,
        state=OpState.ACTIVE,
        started_at=ev.ts,
        last_gas_test_at=test.ts if test is not None and ok else None,
        last_reading_at=test.ts if test is not None else None,
        reported_grade=grade if managed != grade else None,
        oxygen_enriched=ev.oxygen_enriched,
        guardian_cert=ev.guardian_cert,
        camera=ev.camera,
        serves_op=ev.serves_op,
    )
    limit = tp.for_grade(tp.permit_max, managed)
    if limit is not None and ev.valid_to - ev.valid_from > limit:
        outcome += raise_one(
            ent,
            Rule.PERMIT_TOO_LONG,
            subject,
            msg(
                "alarm.permit_too_long.upgraded" if why else "alarm.permit_too_long",
                permit_no=ev.permit_no,
                hours=_hours(ev.valid_to - ev.valid_from),
                op=op_label(ev.op_type, managed),
                limit=_hours(limit),
                reason=why,
            ),
            at=ev.ts,
            permit_no=ev.permit_no,
            limit_hours=_hours(limit),
            upgraded_for=why,
        )
    if ev.ts < ev.valid_from:
        outcome += raise_one(
            ent,
            Rule.PERMIT_NOT_YET_VALID,
            subject,
            msg("alarm.permit_not_yet_valid", permit_no=ev.permit_no, valid_from=ev.valid_from),
            at=ev.ts,
            permit_no=ev.permit_no,
        )
    outcome += check_expiry(op, ev.ts)
    outcome += _guardian(op, policy, ev.ts)
    if tp.gas_test_before is not None and not (ok and test and _fresh(test.ts, ev.ts, tp, policy)):
        minutes = int(tp.gas_test_before / timedelta(minutes=1))
        outcome += raise_one(
            ent,
            Rule.GAS_TEST_MISSING,
            subject,
            msg("alarm.gas_test_missing", op=_name(op), op_id=ev.op_id, minutes=minutes),
            at=ev.ts,
            last_test=test.ts.isoformat() if test else None,
        )
    if test is not None:
        outcome += _reading_outcome(op, test, policy.gas)
    if op.grade in policy.video_grades.get(op.op_type, frozenset()):
        outcome += check_video(op, ev.ts, policy, video_live=video_live)
    others = [o for o in others if o.op_id != op.op_id]
    outcome += check_guardian_conflict(op, others, ev.ts)
    if op.serves_op is not None:
        parent = next((o for o in others if o.op_id == op.serves_op), None)
        outcome += check_temp_power(op, parent, ev.ts, at_start=True)
    return op, outcome


def reading_problems(
    reading: GasReading, op: SpecialOp | OpStart | None, policy: SpecialOpsPolicy
) -> list[Message]:
    """gas_problems for a reading of an operation (its permit may record 富氧环境)."""
    enriched = op is not None and op.oxygen_enriched
    return gas_problems(reading, policy.gas, oxygen_enriched=enriched)


def _guardian(op: SpecialOp, policy: SpecialOpsPolicy, at: datetime) -> RuleOutcome:
    name = (op.guardian or "").strip()
    cert = (op.guardian_cert or "").strip()
    if name and (cert or not policy.guardian_cert_required):
        return NOTHING
    return raise_one(
        op.enterprise_id,
        Rule.GUARDIAN_MISSING,
        op.subject,
        msg(
            "alarm.guardian_missing.cert" if name else "alarm.guardian_missing",
            op=_name(op),
            op_id=op.op_id,
            guardian=name,
        ),
        at=at,
        permit_no=op.permit_no,
        guardian=name or None,
    )


#: Clock skew tolerated between the analyser and the permit system.
_SKEW = timedelta(minutes=2)


def gas_test(
    op: SpecialOp, reading: GasReading, policy: SpecialOpsPolicy
) -> tuple[SpecialOp, RuleOutcome]:
    """Record a gas analysis for an operation; clears missing/stale/retest alarms it satisfies."""
    outcome = _reading_outcome(op, reading, policy.gas)
    seen = replace(op, last_reading_at=_later(op.last_reading_at, reading.ts))
    if not is_acceptable(reading, policy.gas, oxygen_enriched=op.oxygen_enriched):
        return seen, outcome
    ent = op.enterprise_id
    outcome += clear_one(ent, Rule.GAS_TEST_MISSING, op.subject, at=reading.ts)
    outcome += clear_one(ent, Rule.GAS_TEST_STALE, op.subject, at=reading.ts)
    needs_retest = op.needs_retest
    if needs_retest and (op.paused_at is None or reading.ts >= op.paused_at):
        needs_retest = False
        outcome += clear_one(ent, Rule.RETEST_MISSING, op.subject, at=reading.ts)
    new = replace(
        seen, last_gas_test_at=_later(op.last_gas_test_at, reading.ts), needs_retest=needs_retest
    )
    return new, outcome


def pause(op: SpecialOp, ts: datetime) -> SpecialOp:
    """The work is interrupted."""
    if op.state is not OpState.ACTIVE:
        return op
    return replace(op, state=OpState.PAUSED, paused_at=ts, interruptions=op.interruptions + 1)


def resume(op: SpecialOp, ts: datetime, policy: SpecialOpsPolicy) -> tuple[SpecialOp, RuleOutcome]:
    """The work continues. After an interruption beyond the type's limit, or on a new calendar
    day for 每日动火前, it needs an acceptable analysis made after the pause and within the
    window before the restart; an analysis taken early in a long pause does not count."""
    if op.state is not OpState.PAUSED or op.paused_at is None:
        return replace(op, state=OpState.ACTIVE), NOTHING
    tp = policy.types[op.op_type]
    # One grade above the permit's (5.1.1), never two: an operation already raised at its start
    # keeps that grade when it restarts in the night again; a daytime restart keeps it too.
    managed, why = managed_grade(op.op_type, op.reported_grade or op.grade, ts, policy)
    if why is None:
        managed = op.grade
    new = replace(op, state=OpState.ACTIVE)
    outcome = NOTHING
    if managed != op.grade:
        new = replace(new, grade=managed, reported_grade=op.reported_grade or op.grade)
        if managed in policy.video_grades.get(op.op_type, frozenset()):
            # Re-checked with the live session list by the periodic job within seconds.
            outcome += check_video(new, ts, policy, video_live=False)
    limit = tp.for_grade(tp.retest_after_pause, managed)
    gap = ts - op.paused_at
    tz = policy.upgrade.tz
    new_day = op.op_type in policy.daily_test_types and (
        ts.astimezone(tz).date() != op.paused_at.astimezone(tz).date()
    )
    if not new_day and (limit is None or gap <= limit):
        return new, outcome
    last = op.last_gas_test_at
    if last is not None and last >= op.paused_at and _fresh(last, ts, tp, policy):
        return new, outcome
    window = int((tp.gas_test_before or _SKEW) / timedelta(minutes=1))
    if limit is not None and gap > limit:
        text = msg(
            "alarm.retest_missing",
            op=_name(new),
            op_id=op.op_id,
            gap=int(gap / timedelta(minutes=1)),
            limit=int(limit / timedelta(minutes=1)),
            window=window,
        )
    else:
        text = msg("alarm.retest_missing.new_day", op=_name(new), op_id=op.op_id, window=window)
    return replace(new, needs_retest=True), outcome + raise_one(
        op.enterprise_id,
        Rule.RETEST_MISSING,
        op.subject,
        text,
        at=ts,
        paused_at=op.paused_at.isoformat(),
        last_test=last.isoformat() if last else None,
        upgraded_for=why,
    )


def end(op: SpecialOp, ts: datetime) -> tuple[SpecialOp, RuleOutcome]:
    """The operation is closed; time-based conditions no longer apply."""
    new = replace(op, state=OpState.ENDED, ended_at=ts)
    ent = op.enterprise_id
    outcome = (
        clear_one(ent, Rule.PERMIT_EXPIRED, op.subject, at=ts)
        + clear_one(ent, Rule.GAS_TEST_STALE, op.subject, at=ts)
        + clear_one(ent, Rule.VIDEO_MISSING, op.subject, at=ts)
        + clear_one(ent, Rule.TEMP_POWER_OUTLASTS, op.subject, at=ts)
    )
    if ts > op.valid_to:
        outcome = (
            raise_one(
                ent,
                Rule.PERMIT_EXPIRED,
                op.subject,
                msg("alarm.permit_expired.ended", permit_no=op.permit_no, valid_to=op.valid_to),
                at=ts,
                permit_no=op.permit_no,
                ended_at=ts.isoformat(),
            )
            + outcome
        )
    return new, outcome


def check_expiry(op: SpecialOp, now: datetime) -> RuleOutcome:
    """Permit expired while the operation is open."""
    if op.state is OpState.ENDED or now <= op.valid_to:
        return NOTHING
    return raise_one(
        op.enterprise_id,
        Rule.PERMIT_EXPIRED,
        op.subject,
        msg(
            "alarm.permit_expired.open",
            op=_name(op),
            op_id=op.op_id,
            permit_no=op.permit_no,
            valid_to=op.valid_to,
        ),
        at=now,
        permit_no=op.permit_no,
        valid_to=op.valid_to.isoformat(),
    )


def check_stale_test(op: SpecialOp, now: datetime, policy: SpecialOpsPolicy) -> RuleOutcome:
    """An active operation whose monitoring data stopped for longer than its grade allows, or
    (每日动火前) that goes on into a calendar day without an analysis of that day."""
    if op.state is not OpState.ACTIVE:
        return NOTHING
    tp = policy.types[op.op_type]
    max_age = tp.for_grade(tp.max_test_age, op.grade)
    reference = op.last_reading_at or op.last_gas_test_at or op.started_at
    if max_age is not None and now - reference > max_age:
        return raise_one(
            op.enterprise_id,
            Rule.GAS_TEST_STALE,
            op.subject,
            msg(
                "alarm.gas_test_stale",
                op=_name(op),
                op_id=op.op_id,
                minutes=int((now - reference) / timedelta(minutes=1)),
                max=int(max_age / timedelta(minutes=1)),
            ),
            at=now,
            last_test=op.last_reading_at.isoformat() if op.last_reading_at else None,
        )
    if op.op_type in policy.daily_test_types:
        tz = policy.upgrade.tz
        last = op.last_gas_test_at
        if last is None or last.astimezone(tz).date() < now.astimezone(tz).date():
            return raise_one(
                op.enterprise_id,
                Rule.GAS_TEST_STALE,
                op.subject,
                msg(
                    "alarm.gas_test_stale.daily",
                    op=_name(op),
                    op_id=op.op_id,
                    day=now.astimezone(tz).date(),
                ),
                at=now,
                last_test=last.isoformat() if last else None,
            )
    return NOTHING


def periodic(
    op: SpecialOp,
    now: datetime,
    policy: SpecialOpsPolicy,
    *,
    video_live: bool = False,
    open_ops: Mapping[tuple[str, str], SpecialOp] | None = None,
) -> RuleOutcome:
    """Every time-based check of an open operation (the scheduler runs this)."""
    outcome = check_expiry(op, now) + check_stale_test(op, now, policy)
    if op.grade in policy.video_grades.get(op.op_type, frozenset()):
        outcome += check_video(op, now, policy, video_live=video_live)
    if op.serves_op is not None and open_ops is not None:
        outcome += check_temp_power(op, parents_of(open_ops, op), now, at_start=False)
    return outcome


def _reading_evidence(r: GasReading) -> dict[str, object]:
    return {
        "ts": r.ts.isoformat(),
        "o2_pct": r.o2_pct,
        "lel_pct": r.lel_pct,
        "toxic_ppm": dict(r.toxic_ppm or {}),
        "combustible_vol_pct": r.combustible_vol_pct,
        "lel_vol_pct": r.lel_vol_pct,
        "analyst": r.analyst,
        "gas": r.gas,
    }


def _hours(d: timedelta) -> float:
    return round(d / timedelta(hours=1), 2)


def _name(op: SpecialOp) -> Message:
    return op_label(op.op_type, op.grade)


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a
