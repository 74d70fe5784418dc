"""Who may act on an inspection record, and what a team must be.

Recording (findings, evidence, the visit's completion, the closing step) is for the officers of
the inspection's team only (issue 15): an inspector account linked to the team's leader or a
member whose enforcement certificate is valid. Experts are 辅助人员 (measure 10 of the seed
policy): listed on the record, never signing, deciding or counted as an officer. Supervisors and
admins see every inspection, change a team (with a reason) and cancel, but do not record.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from domain.errors import Forbidden, ValidationFailed
from domain.i18n import Message, msg, render
from domain.users import Principal, Role

#: Roles that act on any inspection (they assign and supervise the teams).
OVERSEERS = frozenset({Role.ADMIN, Role.SUPERVISOR})
#: Staff roles on an inspection; `expert` is 辅助人员.
TEAM_ROLES = ("leader", "member", "expert")
#: Officers a team needs at least (行政处罚法 第四十二条: 执法人员不得少于两人).
MIN_OFFICERS = 2
#: A reason a person writes (team change, hand-made inspection, override …) has at least this.
MIN_REASON_CHARS = 5


@dataclass(frozen=True, slots=True)
class TeamMember:
    """One person on an inspection with what the record shows (行政处罚法 第五十五条)."""

    officer_id: str
    role: str
    name: str
    certificate_no: str
    certificate_valid_from: date | None
    certificate_valid_to: date | None
    auxiliary: bool
    active: bool = True


def ensure_on_team(principal: Principal, *, officer_id: str | None, team: Collection[str]) -> None:
    """Raise Forbidden unless the principal oversees inspections or is on this one's team."""
    if principal.role in OVERSEERS:
        return
    if principal.role is not Role.INSPECTOR:
        raise Forbidden(msg("inspection.record_role"))
    if officer_id is None:
        raise Forbidden(msg("inspection.not_linked"))
    if officer_id not in team:
        raise Forbidden(
            msg("inspection.not_on_team", officer=officer_id), details={"officer_id": officer_id}
        )


def certificate_valid(member: TeamMember, today: date) -> bool:
    """Whether the member holds an enforcement certificate valid on `today`."""
    if not member.certificate_no.strip():
        return False
    if member.certificate_valid_from is not None and member.certificate_valid_from > today:
        return False
    return member.certificate_valid_to is None or member.certificate_valid_to >= today


def ensure_may_record(
    principal: Principal, *, officer_id: str | None, team: Sequence[TeamMember], today: date
) -> TeamMember:
    """The team member acting, if the principal may record on this inspection; else Forbidden."""
    if principal.role is not Role.INSPECTOR:
        raise Forbidden(msg("inspection.record_role"), details={"role": principal.role.value})
    if officer_id is None:
        raise Forbidden(msg("inspection.not_linked"))
    member = next((m for m in team if m.officer_id == officer_id), None)
    if member is None:
        raise Forbidden(
            msg("inspection.not_on_team", officer=officer_id), details={"officer_id": officer_id}
        )
    if member.role == "expert" or member.auxiliary:
        raise Forbidden(msg("inspection.expert_may_not_sign", name=member.name))
    if not certificate_valid(member, today):
        raise Forbidden(
            msg(
                "inspection.certificate_invalid",
                name=member.name,
                valid_to=member.certificate_valid_to.isoformat()
                if member.certificate_valid_to
                else "—",
            )
        )
    return member


def validate_team(
    team: Sequence[TeamMember], *, conflicts: Collection[str] = (), today: date
) -> None:
    """Refuse a team without exactly one leader, with fewer than two officers, with an expert
    as officer (or an officer as expert), an inactive or conflicted person, or an officer
    without a valid certificate; every problem is listed in zh-CN."""
    problems: list[Message] = []
    leaders = [m for m in team if m.role == "leader"]
    if len(leaders) != 1:
        problems.append(msg("inspection.team.one_leader"))
    seen: set[str] = set()
    for m in team:
        if m.officer_id in seen:
            problems.append(msg("inspection.team.duplicate", name=m.name))
        seen.add(m.officer_id)
        if m.role in ("leader", "member") and m.auxiliary:
            problems.append(msg("inspection.team.leader_expert", name=m.name))
        if m.role == "expert" and not m.auxiliary:
            problems.append(msg("inspection.team.expert_not_auxiliary", name=m.name))
        if not m.active:
            problems.append(msg("inspection.team.inactive", name=m.name))
        if m.officer_id in conflicts:
            problems.append(msg("inspection.team.conflict", name=m.name))
        if m.role != "expert" and not m.auxiliary and not certificate_valid(m, today):
            problems.append(
                msg(
                    "inspection.certificate_invalid",
                    name=m.name,
                    valid_to=m.certificate_valid_to.isoformat() if m.certificate_valid_to else "—",
                )
            )
    officers = [m for m in team if m.role != "expert" and not m.auxiliary]
    if len(officers) < MIN_OFFICERS:
        problems.append(msg("inspection.team.two_officers", count=len(officers)))
    if problems:
        raise ValidationFailed(
            msg("inspection.team.refused", problems=problems),
            details={"team": [render(p) for p in problems]},
        )


def ensure_reason(reason: str | None, *, field: str = "reason") -> str:
    """A written reason of at least MIN_REASON_CHARS characters, stripped; else ValidationFailed."""
    text = (reason or "").strip()
    if len(text) < MIN_REASON_CHARS:
        raise ValidationFailed(
            msg("inspection.reason_required", min=MIN_REASON_CHARS),
            details={field: render(msg("inspection.reason_required", min=MIN_REASON_CHARS))},
        )
    return text


def role_label(role: str) -> Message:
    """The zh-CN name of a staff role (辅助人员 for experts)."""
    return msg(f"term.inspection_role.{role}")
