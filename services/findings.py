"""Findings on the workbench: record one (清单式执法 validation, grading, the advisor's
recommendation), the officer's confirmation or override, the enterprise's statement at the
closing step (measure 12), and the lapse of provisional outcomes not verified in time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from config.policy_enforcement import Catalogue, FirstViolation
from config.policy_hazards import HazardCriteria
from domain import advisor
from domain.advisor import Advice, AdvisorPolicy, Facts, Recommendation
from domain.clock import utcnow
from domain.errors import NotFound, RuleViolation, ValidationFailed
from domain.findings import FindingInput, listed_items, validate
from domain.i18n import msg, render
from domain.inspection_access import ensure_reason
from services.changes import SYSTEM, Actor, Audit, record
from services.inspection_teams import acting_member
from storage import enforcement, enterprises, findings, inspection_lists, inspections
from storage.findings import FindingRecord

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: An override of the advisor is explained in at least this many characters (bureau choice).
MIN_OVERRIDE_CHARS = 10
#: The legacy outcome column each recommendation maps to (public results count these).
OUTCOME = {
    Recommendation.NO_PENALTY: "guidance",
    Recommendation.FIRST_VIOLATION: "guidance",
    Recommendation.LENIENT: "penalty_procedure",
    Recommendation.CASE: "penalty_procedure",
}
_EXCLUSIONS = ("accident", "major_hazard", "illegal_production", "bad_social_impact")


@dataclass(frozen=True, slots=True)
class Rules:
    """The policies a finding is judged by (built once in the composition root)."""

    catalogue: Catalogue
    first_violation: FirstViolation
    hazards: HazardCriteria

    def advisor_policy(self) -> AdvisorPolicy:
        """The advisor's settings with the version stored with each decision."""
        fv = self.first_violation
        version = (
            f"first_violation.yaml v{fv.version} ({fv.edition}); "
            f"checklist_catalogue.yaml v{self.catalogue.version}"
        )
        return AdvisorPolicy(fv.lookback_days, fv.max_rectify_days, version)


def _today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


async def record_finding(
    conn: AsyncConnection[Any],
    *,
    inspection_id: int,
    finding: FindingInput,
    rules: Rules,
    actor: Actor,
    tz: ZoneInfo = SHANGHAI,
    now: datetime | None = None,
) -> FindingRecord:
    """Validate, grade and advise a finding recorded by an officer of the inspection's team."""
    now = now or utcnow()
    today = _today(now, tz)
    inspection = await inspections.get_inspection(conn, inspection_id=inspection_id)
    await acting_member(conn, inspection=inspection, actor=actor, today=today)
    if inspection.status == "cancelled":
        raise RuleViolation(
            msg("inspection.closed", inspection_id=inspection_id, status=inspection.status)
        )
    enterprise = await enterprises.get(conn, credit_code=inspection.credit_code)
    if enterprise is None:
        raise NotFound(msg("enterprise.not_found", credit_code=inspection.credit_code))
    on_list = await inspection_lists.for_inspection(conn, inspection_id=inspection_id)
    accepted = validate(
        finding,
        catalogue=rules.catalogue.as_domain(),
        standard=rules.hazards.for_sector(enterprise.sector),
        today=today,
        listed=listed_items(inspection.source, (c for i in on_list for c in i.checklist_codes)),
    )
    policy = rules.advisor_policy()
    prior = await enforcement.prior_violations(
        conn,
        enterprise_id=inspection.credit_code,
        item_code=finding.item_code,
        since=now - timedelta(days=policy.lookback_days),
    )
    advice = advisor.advise(
        Facts(
            severity=finding.severity,
            harm=finding.harm,
            corrected_on_site=finding.corrected_on_site,
            deadline=finding.deadline,
            accident=finding.accident,
            illegal_production=finding.illegal_production,
            bad_social_impact=finding.bad_social_impact,
            mitigations=finding.mitigations,
        ),
        item=accepted.item,
        prior=prior,
        now=now,
        today=today,
        policy=policy,
    )
    assert actor.principal is not None
    stored = await findings.insert(
        conn,
        values=_values(
            inspection_id, inspection.credit_code, finding, accepted, advice, actor, now
        ),
    )
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            action="finding.create",
            target=f"finding:{stored.id}",
            after=_summary(stored),
        ),
        changes=[
            (
                "finding",
                inspection.credit_code,
                {
                    "id": stored.id,
                    "inspection_id": inspection_id,
                    "recommendation": stored.recommendation,
                },
            )
        ],
    )
    return stored


def _values(
    inspection_id: int,
    enterprise_id: str,
    f: FindingInput,
    accepted: Any,
    advice: Advice,
    actor: Actor,
    now: datetime,
) -> dict[str, Any]:
    assert actor.principal is not None
    on_site = f.corrected_on_site
    return {
        "inspection_id": inspection_id,
        "enterprise_id": enterprise_id,
        "item_code": f.item_code,
        "legal_basis": f.legal_basis.strip(),
        "penalty_basis": accepted.item.penalty_basis,
        "basis_free_text": accepted.basis_free_text,
        "basis_reason": f.basis_reason.strip() if accepted.basis_free_text else "",
        "cause": f.cause.strip(),
        "measure": f.measure.strip(),
        "deadline": f.deadline,
        "corrected_on_site": on_site,
        "severity": f.severity.value,
        "hazard_standard": accepted.hazard_standard,
        "hazard_criterion": accepted.hazard_criterion,
        "harm": f.harm.value if f.harm else None,
        "accident": f.accident,
        "illegal_production": f.illegal_production,
        "bad_social_impact": f.bad_social_impact,
        "mitigations": sorted(f.mitigations),
        "outcome": OUTCOME[advice.recommendation],
        "reasons": [c["text"] for c in advice.as_json()],
        "recommendation": advice.recommendation.value,
        "advice": advice.as_json(),
        "policy_version": advice.policy_version,
        "provisional": advice.provisional,
        "verify_by": advice.verify_by,
        "created_by": actor.principal.username,
        # corrected on site: the officers saw it done, the visit verifies it
        "rectified_at": now if on_site else None,
        "verified_on": _today(now, SHANGHAI) if on_site else None,
    }


def _summary(row: FindingRecord) -> dict[str, Any]:
    return {
        "item_code": row.item_code,
        "legal_basis": row.legal_basis,
        "basis_free_text": row.basis_free_text,
        "cause": row.cause,
        "measure": row.measure,
        "deadline": row.deadline.isoformat() if row.deadline else None,
        "severity": row.severity,
        "hazard_criterion": row.hazard_criterion,
        "recommendation": row.recommendation,
        "checks": [c["text"] for c in row.advice],
        "policy_version": row.policy_version,
        "provisional": row.provisional,
    }


async def _team_member_for(
    conn: AsyncConnection[Any], row: FindingRecord, actor: Actor, today: date
) -> None:
    if row.inspection_id is None:
        raise RuleViolation(msg("finding.no_inspection", id=row.id))
    inspection = await inspections.get_inspection(conn, inspection_id=row.inspection_id)
    await acting_member(conn, inspection=inspection, actor=actor, today=today)


async def decide(
    conn: AsyncConnection[Any],
    *,
    finding_id: int,
    decision: Recommendation,
    reason: str | None,
    actor: Actor,
    tz: ZoneInfo = SHANGHAI,
    now: datetime | None = None,
) -> FindingRecord:
    """The officer confirms the recommendation or overrides it with a written reason; an
    exclusion (accident, 重大事故隐患, 非法生产, 恶劣社会影响) never becomes 不予/首违."""
    now = now or utcnow()
    row = await findings.get(conn, finding_id=finding_id, lock=True)
    await _team_member_for(conn, row, actor, _today(now, tz))
    assert actor.principal is not None
    assert row.recommendation is not None
    override = advisor.is_override(row.recommendation, decision.value)
    text: str | None = None
    if override:
        text = (reason or "").strip()
        if len(text) < MIN_OVERRIDE_CHARS:
            raise ValidationFailed(
                msg("finding.override_reason", min=MIN_OVERRIDE_CHARS),
                details={"reason": render(msg("finding.override_reason", min=MIN_OVERRIDE_CHARS))},
            )
        lenient = decision in (Recommendation.NO_PENALTY, Recommendation.FIRST_VIOLATION)
        excluded = [c["rule"] for c in row.advice if c["rule"] in _EXCLUSIONS and not c["passed"]]
        if lenient and (excluded or row.lapsed_at is not None):
            raise RuleViolation(
                msg("finding.override_excluded"), details={"excluded": excluded or ["lapsed"]}
            )
    elif reason:
        text = ensure_reason(reason)
    await findings.decide(
        conn,
        finding_id=finding_id,
        decision=decision.value,
        reason=text,
        by=actor.principal.username,
        at=now,
        outcome=OUTCOME[decision],
    )
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            action="finding.override" if override else "finding.confirm",
            target=f"finding:{finding_id}",
            before={"recommendation": row.recommendation, "decision": row.decision},
            after={"decision": decision.value, "reason": text, "override": override},
        ),
        changes=[
            ("finding", row.enterprise_id, {"id": finding_id, "decision": decision.value}),
            *([("finding_override", None, {"id": finding_id})] if override else []),
        ],
    )
    return await findings.get(conn, finding_id=finding_id)


async def state(
    conn: AsyncConnection[Any],
    *,
    finding_id: int,
    statement: str,
    note: str,
    actor: Actor,
    tz: ZoneInfo = SHANGHAI,
    now: datetime | None = None,
) -> FindingRecord:
    """At the closing step the enterprise's representative agrees or objects (with the
    objection written down) per finding; an officer of the team records it (measure 12)."""
    now = now or utcnow()
    row = await findings.get(conn, finding_id=finding_id, lock=True)
    await _team_member_for(conn, row, actor, _today(now, tz))
    if statement not in ("agree", "object"):
        raise ValidationFailed(msg("finding.statement_choice"), details={"statement": None})
    text = ensure_reason(note, field="note") if statement == "object" else note.strip()
    await findings.set_statement(
        conn, finding_id=finding_id, statement=statement, note=text, at=now
    )
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            action="finding.statement",
            target=f"finding:{finding_id}",
            before={"statement": row.statement},
            after={"statement": statement, "note": text},
        ),
        changes=[("finding", row.enterprise_id, {"id": finding_id, "statement": statement})],
    )
    return await findings.get(conn, finding_id=finding_id)


async def lapse_due(conn: AsyncConnection[Any], *, today: date, now: datetime) -> list[int]:
    """Reopen every provisional 不予/首违 outcome whose deadline passed without a verifying
    复查 as 立案-recommended, and tell the supervisors (a staff live change); returns the ids."""
    lapsed = []
    for finding_id in await findings.provisional_due(conn, today=today):
        row = await findings.get(conn, finding_id=finding_id, lock=True)
        if not advisor.lapsed(
            provisional=row.provisional,
            verify_by=row.verify_by,
            verified_on=row.verified_on,
            today=today,
        ):
            continue
        text = render(
            msg("advice.lapsed", deadline=row.verify_by, outcome=row.decision or row.recommendation)
        )
        check = {"rule": "lapsed", "passed": False, "text": text}
        if not await findings.lapse(conn, finding_id=finding_id, at=now, check=check):
            continue
        lapsed.append(finding_id)
        await record(
            conn,
            actor=SYSTEM,
            audit_entry=Audit(
                action="finding.lapse",
                target=f"finding:{finding_id}",
                before={"recommendation": row.recommendation, "decision": row.decision},
                after={"recommendation": "case", "reason": text},
            ),
            changes=[
                ("finding", row.enterprise_id, {"id": finding_id, "recommendation": "case"}),
                ("supervisor_notice", None, {"finding_id": finding_id, "text": text}),
            ],
        )
    return lapsed
