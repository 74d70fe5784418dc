"""Enforcement measures on a finding: the flexible instruments (measure 4: 责令限期改正、批评教育、
行政约谈、行政告诫) and the coercive measures whose preconditions the form enforces (measure 3),
numbered from the bureau's sequence; the enterprise's refusal of a suspension, recorded; the
record of a held 行政约谈 (its 约谈记录)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from config.policy_documents import DocumentSettings
from domain import instruments
from domain import rectification as rules
from domain.clock import utcnow
from domain.enforcement import Severity
from domain.errors import RuleViolation, ValidationFailed
from domain.i18n import msg
from domain.inspection_access import ensure_reason
from services.changes import Actor, Audit, record
from services.inspection_teams import acting_member
from services.rectification import SHANGHAI, doc_no
from storage import findings, inspections
from storage import rectification as orders


async def record_measure(
    conn: AsyncConnection[Any],
    *,
    finding_id: int,
    kind: str,
    content: str,
    safety_not_ensured: bool,
    imminent_danger: bool,
    head_approval: str,
    documents: DocumentSettings,
    actor: Actor,
    meeting_at: datetime | None = None,
    meeting_place: str = "",
    meeting_attendee: str = "",
    tz: ZoneInfo = SHANGHAI,
    now: datetime | None = None,
) -> int:
    """A flexible instrument (责令限期改正、批评教育、行政约谈、行政告诫) or a coercive measure
    whose preconditions the form states (measure 3), numbered, by the finding's team."""
    now = now or utcnow()
    row = await findings.get(conn, finding_id=finding_id, lock=True)
    assert row.inspection_id is not None
    inspection = await inspections.get_inspection(conn, inspection_id=row.inspection_id)
    await acting_member(conn, inspection=inspection, actor=actor, today=now.astimezone(tz).date())
    taken = await orders.measures(conn, finding_id=finding_id)
    refused = any(
        m.kind in ("suspend_production", "stop_equipment") and m.refused_at is not None
        for m in taken
    )
    rules.check_measure(
        rules.MeasureFacts(
            kind=kind,
            severity=Severity(row.severity),
            safety_not_ensured=safety_not_ensured,
            refused_before=refused,
            imminent_danger=imminent_danger,
            head_approval=head_approval,
        )
    )
    instruments.check_meeting(
        kind=kind,
        meeting_at=meeting_at,
        place=meeting_place,
        attendee=meeting_attendee,
        now=now,
    )
    text = content.strip()
    if len(text) < 8:
        raise ValidationFailed(
            msg("finding.too_short", field="measure", min=8), details={"content": "too short"}
        )
    assert actor.principal is not None
    number = await doc_no(
        conn, documents=documents, kind="measure", year=now.astimezone(tz).date().year
    )
    measure_id = await orders.insert_measure(
        conn,
        values={
            "finding_id": finding_id,
            "enterprise_id": row.enterprise_id,
            "kind": kind,
            "content": text,
            "safety_not_ensured": safety_not_ensured,
            "imminent_danger": imminent_danger,
            "head_approval": head_approval.strip(),
            "doc_no": number,
            "created_by": actor.principal.username,
            "meeting_at": meeting_at,
            "meeting_place": meeting_place.strip(),
            "meeting_attendee": meeting_attendee.strip(),
        },
    )
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            action=f"measure.{kind}",
            target=f"measure:{measure_id}",
            after={
                "finding_id": finding_id,
                "content": text,
                "doc_no": number,
                "safety_not_ensured": safety_not_ensured,
                "imminent_danger": imminent_danger,
                "head_approval": head_approval.strip(),
                "refused_before": refused,
                **(
                    {
                        "meeting_at": meeting_at.isoformat(),
                        "meeting_place": meeting_place.strip(),
                        "meeting_attendee": meeting_attendee.strip(),
                    }
                    if meeting_at is not None
                    else {}
                ),
            },
        ),
        changes=[("measure", row.enterprise_id, {"id": measure_id, "kind": kind})],
    )
    return measure_id


async def record_refusal(
    conn: AsyncConnection[Any],
    *,
    measure_id: int,
    note: str,
    actor: Actor,
    tz: ZoneInfo = SHANGHAI,
    now: datetime | None = None,
) -> None:
    """The enterprise refused to carry out a suspension or stop decision: recorded by the team
    (the precondition of 停止供电, 安全生产法 第七十条)."""
    now = now or utcnow()
    measure = await orders.get_measure(conn, measure_id=measure_id)
    row = await findings.get(conn, finding_id=measure.finding_id)
    assert row.inspection_id is not None
    inspection = await inspections.get_inspection(conn, inspection_id=row.inspection_id)
    await acting_member(conn, inspection=inspection, actor=actor, today=now.astimezone(tz).date())
    if measure.kind not in ("suspend_production", "stop_equipment"):
        raise RuleViolation(msg("measure.not_refusable"))
    text = ensure_reason(note, field="note")
    if not await orders.refuse(conn, measure_id=measure_id, note=text, at=now):
        raise RuleViolation(msg("measure.refusal_recorded", measure_id=measure_id))
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            action="measure.refused",
            target=f"measure:{measure_id}",
            after={"note": text},
        ),
        changes=[("measure", measure.enterprise_id, {"id": measure_id, "refused": True})],
    )


async def record_minutes(
    conn: AsyncConnection[Any],
    *,
    measure_id: int,
    held_at: datetime,
    attendees: str,
    minutes: str,
    actor: Actor,
    tz: ZoneInfo = SHANGHAI,
    now: datetime | None = None,
) -> None:
    """The record of a held 行政约谈 (when, who attended, what was said and required), by the
    finding's team, once: the 约谈记录 is built from it."""
    now = now or utcnow()
    measure = await orders.get_measure(conn, measure_id=measure_id)
    row = await findings.get(conn, finding_id=measure.finding_id)
    assert row.inspection_id is not None
    inspection = await inspections.get_inspection(conn, inspection_id=row.inspection_id)
    await acting_member(conn, inspection=inspection, actor=actor, today=now.astimezone(tz).date())
    if measure.kind != "interview":
        raise RuleViolation(msg("measure.minutes_only_interview"))
    instruments.check_minutes(held_at=held_at, attendees=attendees, minutes=minutes, now=now)
    assert actor.principal is not None
    if not await orders.set_minutes(
        conn,
        measure_id=measure_id,
        held_at=held_at,
        attendees=attendees.strip(),
        minutes=minutes.strip(),
        by=actor.principal.username,
    ):
        raise RuleViolation(msg("measure.minutes_recorded", measure_id=measure_id))
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            action="measure.minutes",
            target=f"measure:{measure_id}",
            after={
                "held_at": held_at.isoformat(),
                "attendees": attendees.strip(),
                "minutes": minutes.strip(),
            },
        ),
        changes=[("measure", measure.enterprise_id, {"id": measure_id, "minutes": True})],
    )
