"""Inspection teams: who acts for the team (team-only recording, experts as 辅助人员), a team
change by a supervisor with a reason, and inspections made by hand (重点、举报、复查)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from psycopg import AsyncConnection

from domain.errors import Forbidden, NotFound, RuleViolation, ValidationFailed
from domain.i18n import msg
from domain.inspection_access import (
    OVERSEERS,
    TEAM_ROLES,
    TeamMember,
    ensure_may_record,
    ensure_reason,
    validate_team,
)
from domain.inspection_cap import YearlyCap, ensure_within_cap
from services.changes import Actor, Audit, record
from storage import inspection_teams, inspections, supervision, users
from storage.inspections import InspectionRecord

#: Kinds of inspection a supervisor makes by hand; draws make 'draw' ones.
HAND_MADE = ("targeted", "complaint", "follow_up")


async def acting_member(
    conn: AsyncConnection[Any], *, inspection: InspectionRecord, actor: Actor, today: date
) -> TeamMember:
    """The team member the actor records as; Forbidden for anyone else (experts included)."""
    assert actor.principal is not None, "an inspection is recorded by a person"
    officer = await users.officer_of(conn, user_id=actor.principal.user_id)
    team = await inspection_teams.team(conn, inspection_id=inspection.id)
    return ensure_may_record(actor.principal, officer_id=officer, team=team, today=today)


def _ensure_overseer(actor: Actor) -> None:
    assert actor.principal is not None
    if actor.principal.role not in OVERSEERS:
        raise Forbidden(msg("inspection.supervisor_only"))


async def _proposed(
    conn: AsyncConnection[Any], *, credit_code: str, staff: Sequence[tuple[str, str]], today: date
) -> list[TeamMember]:
    """The proposed team as members, validated against the directory; ValidationFailed else."""
    bad_roles = sorted({r for _, r in staff if r not in TEAM_ROLES})
    if bad_roles:
        raise ValidationFailed(msg("inspection.staff_role_unknown", bad_roles=", ".join(bad_roles)))
    ids = [o for o, _ in staff]
    known = await inspection_teams.officers(conn, ids=ids)
    unknown = sorted(set(ids) - set(known))
    if unknown:
        raise NotFound(msg("inspection.officers_unknown", unknown=", ".join(unknown)))
    team = [replace(known[o], role=r) for o, r in staff]
    conflicted = await inspection_teams.conflicts(conn, credit_code=credit_code, ids=ids)
    validate_team(team, conflicts=conflicted, today=today)
    return team


def _snapshot(team: Sequence[TeamMember]) -> list[dict[str, str]]:
    return [{"officer_id": m.officer_id, "role": m.role} for m in team]


async def change_team(
    conn: AsyncConnection[Any],
    *,
    inspection_id: int,
    staff: Sequence[tuple[str, str]],
    reason: str,
    actor: Actor,
    today: date,
) -> list[TeamMember]:
    """Replace a planned inspection's team: a supervisor's act with a written reason, audited."""
    _ensure_overseer(actor)
    text = ensure_reason(reason)
    inspection = await inspections.get_inspection(conn, inspection_id=inspection_id)
    if inspection.status != "planned":
        raise RuleViolation(
            msg("inspection.closed", inspection_id=inspection_id, status=inspection.status)
        )
    before = await inspection_teams.team(conn, inspection_id=inspection_id)
    after = await _proposed(conn, credit_code=inspection.credit_code, staff=staff, today=today)
    await inspection_teams.replace_team(conn, inspection_id=inspection_id, staff=staff)
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            action="inspection.team_change",
            target=f"inspection:{inspection_id}",
            before={"team": _snapshot(before)},
            after={"team": _snapshot(after), "reason": text},
        ),
        changes=[("inspection", None, {"id": inspection_id, "team": True})],
    )
    return after


async def create_by_hand(
    conn: AsyncConnection[Any],
    *,
    credit_code: str,
    source: str,
    reason: str,
    planned_from: date,
    planned_to: date,
    staff: Sequence[tuple[str, str]],
    follow_up_of: int | None,
    yearly_cap: int,
    actor: Actor,
    today: date,
) -> int:
    """A targeted (重点), complaint (举报) or follow-up (复查) inspection with its team; it
    counts toward the enterprise's yearly cap like any other (inspection_counts) and is refused
    once the cap of its year is taken."""
    _ensure_overseer(actor)
    if source not in HAND_MADE:
        raise ValidationFailed(msg("inspection.source_by_hand"), details={"source": source})
    text = ensure_reason(reason)
    if planned_to < planned_from:
        raise ValidationFailed(msg("inspection.dates"), details={"planned_to": "before start"})
    if (source == "follow_up") != (follow_up_of is not None):
        raise ValidationFailed(msg("inspection.follow_up_origin"), details={"follow_up_of": None})
    if follow_up_of is not None:
        origin = await inspections.get_inspection(conn, inspection_id=follow_up_of)
        if origin.credit_code != credit_code:
            raise ValidationFailed(
                msg("inspection.follow_up_origin"), details={"follow_up_of": follow_up_of}
            )
    team = await _proposed(conn, credit_code=credit_code, staff=staff, today=today)
    cap = await year_cap(
        conn, credit_code=credit_code, year=planned_from.year, yearly_cap=yearly_cap, lock=True
    )
    ensure_within_cap(cap)
    assert actor.principal is not None
    inspection_id = await inspections.record_other(
        conn,
        credit_code=credit_code,
        source=source,
        departments=(),
        planned_from=planned_from,
        planned_to=planned_to,
        staff=staff,
        reason=text,
        follow_up_of=follow_up_of,
        created_by=actor.principal.username,
    )
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            action="inspection.create",
            target=f"inspection:{inspection_id}",
            after={
                "credit_code": credit_code,
                "source": source,
                "reason": text,
                "planned_from": planned_from.isoformat(),
                "planned_to": planned_to.isoformat(),
                "follow_up_of": follow_up_of,
                "team": _snapshot(team),
                "yearly_cap": {"cap": cap.cap, "counted_before": cap.counted},
            },
        ),
        changes=[("inspection", credit_code, {"id": inspection_id, "status": "planned"})],
    )
    return inspection_id


async def year_cap(
    conn: AsyncConnection[Any], *, credit_code: str, year: int, yearly_cap: int, lock: bool = False
) -> YearlyCap:
    """The enterprise's cap in a year and the inspections counted against it (the enterprise's
    row locked when asked, so concurrent creations are counted one after the other)."""
    await supervision.enterprise_name(conn, credit_code=credit_code, lock=lock)
    counted = await inspections.count_this_year(conn, credit_code=credit_code, year=year)
    return YearlyCap(year=year, cap=yearly_cap, counted=counted)
