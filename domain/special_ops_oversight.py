"""Checks around a special operation: 升级管理 (holidays and nights), video of 特级动火,
temporary power serving another operation, and the guardian (监护人).

Numbers and calendars come from config/special_operations.yaml; this module only applies them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from domain.alarms import Rule
from domain.i18n import msg, op_label
from domain.monitoring import NOTHING, OpId, RuleOutcome, clear_one, raise_one
from domain.special_ops_model import (
    OpState,
    OpType,
    SpecialOp,
    SpecialOpsPolicy,
    UpgradeCalendar,
    stricter_grade,
)

__all__ = [
    "check_guardian_conflict",
    "check_temp_power",
    "check_video",
    "managed_grade",
    "parents_of",
    "upgrade_reason",
]


def upgrade_reason(at: datetime, cal: UpgradeCalendar) -> str | None:
    """Why hot work at `at` is managed one grade higher: holiday (节假日), rest_day (公休日),
    night (夜间); None when it is not."""
    local = at.astimezone(cal.tz)
    day = local.date()
    if day in cal.holidays:
        return "holiday"
    if local.weekday() in cal.rest_weekdays and day not in cal.workdays:
        return "rest_day"
    t = local.time()
    start, end = cal.night_start, cal.night_end
    night = (start <= t or t < end) if start > end else (start <= t < end)
    return "night" if night else None


def managed_grade(
    op_type: OpType, grade: str | None, at: datetime, policy: SpecialOpsPolicy
) -> tuple[str | None, str | None]:
    """The grade hot work is managed at `at` and why it was raised (GB 30871-2022 5.1.1 升级)."""
    if op_type is not OpType.HOT_WORK:
        return grade, None
    reason = upgrade_reason(at, policy.upgrade)
    if reason is None:
        return grade, None
    return stricter_grade(op_type, grade), reason


def check_video(
    op: SpecialOp, now: datetime, policy: SpecialOpsPolicy, *, video_live: bool
) -> RuleOutcome:
    """特级动火 needs video for its whole duration: a declared camera or a live session."""
    grades = policy.video_grades.get(op.op_type, frozenset())
    if op.state is OpState.ENDED or op.grade not in grades:
        return clear_one(op.enterprise_id, Rule.VIDEO_MISSING, op.subject, at=now)
    if op.camera or video_live:
        return clear_one(op.enterprise_id, Rule.VIDEO_MISSING, op.subject, at=now)
    return raise_one(
        op.enterprise_id,
        Rule.VIDEO_MISSING,
        op.subject,
        msg(
            "alarm.video_missing",
            op=op_label(op.op_type, op.grade),
            op_id=op.op_id,
            permit_no=op.permit_no,
        ),
        at=now,
        permit_no=op.permit_no,
        grade=op.grade,
    )


def check_temp_power(
    op: SpecialOp, parent: SpecialOp | None, now: datetime, *, at_start: bool
) -> RuleOutcome:
    """Temporary power for 动火/受限空间 may not outlast that work's permit (GB 30871-2022 10.8)."""
    if op.op_type is not OpType.TEMP_POWER or op.serves_op is None or op.state is OpState.ENDED:
        return NOTHING
    ent, subject = op.enterprise_id, op.subject
    if parent is None or parent.state is OpState.ENDED:
        variant = "unknown" if at_start and parent is None else "ended"
        text = msg(f"alarm.temp_power_outlasts.{variant}", op_id=op.op_id, serves=op.serves_op)
        return raise_one(ent, Rule.TEMP_POWER_OUTLASTS, subject, text, at=now, serves=op.serves_op)
    if parent.op_type not in (OpType.HOT_WORK, OpType.CONFINED_SPACE):
        return NOTHING
    if op.valid_to > parent.valid_to:
        return raise_one(
            ent,
            Rule.TEMP_POWER_OUTLASTS,
            subject,
            msg(
                "alarm.temp_power_outlasts.valid_to",
                op_id=op.op_id,
                permit_no=op.permit_no,
                valid_to=op.valid_to,
                op=op_label(parent.op_type, parent.grade),
                parent_permit=parent.permit_no,
                parent_valid_to=parent.valid_to,
            ),
            at=now,
            serves=op.serves_op,
            valid_to=op.valid_to.isoformat(),
            parent_valid_to=parent.valid_to.isoformat(),
        )
    return clear_one(ent, Rule.TEMP_POWER_OUTLASTS, subject, at=now)


def _guardian_id(op: SpecialOp) -> str | None:
    if op.guardian_cert:
        return "cert:" + "".join(op.guardian_cert.split()).upper()
    if op.guardian and op.guardian.strip():
        return "name:" + "".join(op.guardian.split())
    return None


def check_guardian_conflict(
    op: SpecialOp, others: Iterable[SpecialOp], at: datetime
) -> RuleOutcome:
    """One guardian does not watch two sites at once (same certificate, or same name)."""
    me = _guardian_id(op)
    if me is None or op.state is OpState.ENDED:
        return NOTHING
    site = "".join(op.location.split())
    clash = sorted(
        o.op_id
        for o in others
        if o.op_id != op.op_id
        and o.state is not OpState.ENDED
        and _guardian_id(o) == me
        and "".join(o.location.split()) != site
    )
    if not clash:
        return NOTHING
    return raise_one(
        op.enterprise_id,
        Rule.GUARDIAN_CONFLICT,
        op.subject,
        msg(
            "alarm.guardian_conflict" if op.guardian_cert else "alarm.guardian_conflict.no_cert",
            guardian=op.guardian,
            cert=op.guardian_cert,
            location=op.location,
            op=op_label(op.op_type, op.grade),
            op_id=op.op_id,
            others="、".join(clash),
        ),
        at=at,
        guardian=op.guardian,
        guardian_cert=op.guardian_cert,
        other_ops=clash,
    )


def parents_of(ops: Mapping[tuple[str, str], SpecialOp], op: SpecialOp) -> SpecialOp | None:
    """The operation a temporary-power operation serves, from a (enterprise, op id) map."""
    if op.serves_op is None:
        return None
    return ops.get((str(op.enterprise_id), str(OpId(op.serves_op))))
