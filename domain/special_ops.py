"""Special operations (特殊作业, GB 30871-2022): permits, guardians, gas tests, interruptions.

The numbers (permit validity, gas-test timing, gas limits) come from config/special_operations.yaml;
this module only applies them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from domain.alarms import Rule
from domain.i18n import Message, msg, op_label
from domain.monitoring import NOTHING, EnterpriseId, RuleOutcome, clear_one, raise_one
from domain.special_ops_model import (
    ANY_GRADE,
    GRADES,
    GasLimits,
    GasReading,
    OpStart,
    OpState,
    OpType,
    SpecialOp,
    SpecialOpsPolicy,
    TypePolicy,
)

__all__ = [
    "ANY_GRADE",
    "GRADES",
    "GasLimits",
    "GasReading",
    "OpStart",
    "OpState",
    "OpType",
    "SpecialOp",
    "SpecialOpsPolicy",
    "TypePolicy",
    "check_expiry",
    "check_stale_test",
    "end",
    "gas_problems",
    "gas_test",
    "pause",
    "periodic",
    "resume",
    "start",
]


def gas_problems(reading: GasReading, limits: GasLimits) -> list[Message]:
    """Why a reading is out of limits (empty when it is acceptable)."""
    out: list[Message] = []
    if reading.o2_pct is not None and not limits.o2_min_pct <= reading.o2_pct <= limits.o2_max_pct:
        out.append(
            msg("gas.o2", value=reading.o2_pct, min=limits.o2_min_pct, max=limits.o2_max_pct)
        )
    if reading.lel_pct is not None and reading.lel_pct > limits.lel_pct_max:
        out.append(msg("gas.lel", value=reading.lel_pct, max=limits.lel_pct_max))
    if reading.combustible_vol_pct is not None and reading.lel_vol_pct is not None:
        cap = (
            limits.vol_pct_max_lel_ge_4 if reading.lel_vol_pct >= 4 else limits.vol_pct_max_lel_lt_4
        )
        if reading.combustible_vol_pct > cap:
            out.append(
                msg(
                    "gas.vol",
                    value=reading.combustible_vol_pct,
                    max=cap,
                    lel=reading.lel_vol_pct,
                )
            )
    for name, value in (reading.toxic_ppm or {}).items():
        cap_ppm = limits.toxic_ppm_max.get(name.upper())
        if cap_ppm is not None and value > cap_ppm:
            out.append(msg("gas.toxic", name=name, value=value, max=cap_ppm))
    return out


def _reading_outcome(op: SpecialOp, reading: GasReading, limits: GasLimits) -> RuleOutcome:
    problems = gas_problems(reading, limits)
    ent = op.enterprise_id
    if problems:
        return raise_one(
            ent,
            Rule.GAS_OUT_OF_LIMITS,
            op.subject,
            msg("alarm.gas_out_of_limits", op=_op(op), op_id=op.op_id, problems=problems),
            at=reading.ts,
            problems=[p.as_json() for p in problems],
            reading=_reading_evidence(reading),
        )
    return clear_one(ent, Rule.GAS_OUT_OF_LIMITS, op.subject, at=reading.ts)


def start(
    ev: OpStart, ent: EnterpriseId, prior_test: GasReading | None, policy: SpecialOpsPolicy
) -> tuple[SpecialOp, RuleOutcome]:
    """Open an operation; check grade, permit window, guardian and the gas test before start."""
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
    test = ev.gas_test or prior_test
    op = SpecialOp(
        enterprise_id=ent,
        op_id=ev.op_id,
        op_type=ev.op_type,
        grade=grade,
        permit_no=ev.permit_no,
        valid_from=ev.valid_from,
        valid_to=ev.valid_to,
        location=ev.location,
        guardian=ev.guardian,
        state=OpState.ACTIVE,
        started_at=ev.ts,
        last_gas_test_at=test.ts if test else None,
    )
    limit = tp.for_grade(tp.permit_max, grade)
    if limit is not None and ev.valid_to - ev.valid_from > limit:
        outcome += raise_one(
            ent,
            Rule.PERMIT_TOO_LONG,
            subject,
            msg(
                "alarm.permit_too_long",
                permit_no=ev.permit_no,
                hours=_hours(ev.valid_to - ev.valid_from),
                op=op_label(ev.op_type, grade),
                limit=_hours(limit),
            ),
            at=ev.ts,
            permit_no=ev.permit_no,
            limit_hours=_hours(limit),
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
    if not (ev.guardian or "").strip():
        outcome += raise_one(
            ent,
            Rule.GUARDIAN_MISSING,
            subject,
            msg("alarm.guardian_missing", op=op_label(ev.op_type, grade), op_id=ev.op_id),
            at=ev.ts,
            permit_no=ev.permit_no,
        )
    if tp.gas_test_before is not None:
        if test is None or not ev.ts - tp.gas_test_before <= test.ts <= ev.ts + _SKEW:
            minutes = int(tp.gas_test_before / timedelta(minutes=1))
            outcome += raise_one(
                ent,
                Rule.GAS_TEST_MISSING,
                subject,
                msg(
                    "alarm.gas_test_missing",
                    op=op_label(ev.op_type, grade),
                    op_id=ev.op_id,
                    minutes=minutes,
                ),
                at=ev.ts,
                last_test=test.ts.isoformat() if test else None,
            )
    if test is not None:
        outcome += _reading_outcome(op, test, policy.gas)
    return op, outcome


#: Clock skew tolerated between the analyser and the permit system.
_SKEW = timedelta(minutes=2)


def gas_test(
    op: SpecialOp, reading: GasReading, policy: SpecialOpsPolicy
) -> tuple[SpecialOp, RuleOutcome]:
    """Record a gas analysis for an operation; clears missing/stale/retest alarms it satisfies."""
    outcome = _reading_outcome(op, reading, policy.gas)
    if gas_problems(reading, policy.gas):
        return replace(op, last_gas_test_at=_later(op.last_gas_test_at, reading.ts)), outcome
    ent = op.enterprise_id
    outcome += clear_one(ent, Rule.GAS_TEST_MISSING, op.subject, at=reading.ts)
    outcome += clear_one(ent, Rule.GAS_TEST_STALE, op.subject, at=reading.ts)
    needs_retest = op.needs_retest
    if needs_retest and (op.paused_at is None or reading.ts >= op.paused_at):
        needs_retest = False
        outcome += clear_one(ent, Rule.RETEST_MISSING, op.subject, at=reading.ts)
    new = replace(
        op, last_gas_test_at=_later(op.last_gas_test_at, reading.ts), needs_retest=needs_retest
    )
    return new, outcome


def pause(op: SpecialOp, ts: datetime) -> SpecialOp:
    """The work is interrupted."""
    if op.state is not OpState.ACTIVE:
        return op
    return replace(op, state=OpState.PAUSED, paused_at=ts, interruptions=op.interruptions + 1)


def resume(op: SpecialOp, ts: datetime, policy: SpecialOpsPolicy) -> tuple[SpecialOp, RuleOutcome]:
    """The work continues; a long interruption needs a new gas analysis made after the pause."""
    if op.state is not OpState.PAUSED or op.paused_at is None:
        return replace(op, state=OpState.ACTIVE), NOTHING
    tp = policy.types[op.op_type]
    limit = tp.for_grade(tp.retest_after_pause, op.grade)
    new = replace(op, state=OpState.ACTIVE)
    gap = ts - op.paused_at
    if limit is None or gap <= limit:
        return new, NOTHING
    if op.last_gas_test_at is not None and op.last_gas_test_at >= op.paused_at:
        return new, NOTHING
    return replace(new, needs_retest=True), raise_one(
        op.enterprise_id,
        Rule.RETEST_MISSING,
        op.subject,
        msg(
            "alarm.retest_missing",
            op=_op(op),
            op_id=op.op_id,
            gap=int(gap / timedelta(minutes=1)),
            limit=int(limit / timedelta(minutes=1)),
        ),
        at=ts,
        paused_at=op.paused_at.isoformat(),
    )


def end(op: SpecialOp, ts: datetime) -> tuple[SpecialOp, RuleOutcome]:
    """The operation is closed; time-based conditions no longer apply."""
    new = replace(op, state=OpState.ENDED, ended_at=ts)
    ent = op.enterprise_id
    outcome = clear_one(ent, Rule.PERMIT_EXPIRED, op.subject, at=ts) + clear_one(
        ent, Rule.GAS_TEST_STALE, op.subject, at=ts
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
            op=_op(op),
            op_id=op.op_id,
            permit_no=op.permit_no,
            valid_to=op.valid_to,
        ),
        at=now,
        permit_no=op.permit_no,
        valid_to=op.valid_to.isoformat(),
    )


def check_stale_test(op: SpecialOp, now: datetime, policy: SpecialOpsPolicy) -> RuleOutcome:
    """An active operation whose last gas analysis is older than its type and grade allow."""
    if op.state is not OpState.ACTIVE:
        return NOTHING
    tp = policy.types[op.op_type]
    max_age = tp.for_grade(tp.max_test_age, op.grade)
    if max_age is None:
        return NOTHING
    last = op.last_gas_test_at
    reference = last or op.started_at
    if now - reference <= max_age:
        return NOTHING
    return raise_one(
        op.enterprise_id,
        Rule.GAS_TEST_STALE,
        op.subject,
        msg(
            "alarm.gas_test_stale",
            op=_op(op),
            op_id=op.op_id,
            minutes=int((now - reference) / timedelta(minutes=1)),
            max=int(max_age / timedelta(minutes=1)),
        ),
        at=now,
        last_test=last.isoformat() if last else None,
    )


def periodic(op: SpecialOp, now: datetime, policy: SpecialOpsPolicy) -> RuleOutcome:
    """Every time-based check of an open operation (the scheduler runs this)."""
    return check_expiry(op, now) + check_stale_test(op, now, policy)


def _reading_evidence(r: GasReading) -> dict[str, object]:
    return {
        "ts": r.ts.isoformat(),
        "o2_pct": r.o2_pct,
        "lel_pct": r.lel_pct,
        "toxic_ppm": dict(r.toxic_ppm or {}),
        "combustible_vol_pct": r.combustible_vol_pct,
        "lel_vol_pct": r.lel_vol_pct,
        "analyst": r.analyst,
    }


def _op(op: SpecialOp) -> Message:
    return op_label(op.op_type, op.grade)


def _hours(d: timedelta) -> float:
    return round(d / timedelta(hours=1), 2)


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a
