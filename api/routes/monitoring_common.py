"""Shared pieces of the monitoring routes: the enterprise path guard, the policy, alarm shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ConnDep, PoliciesDep, PrincipalDep, ensure_enterprise_access, require_roles
from config.policy_monitoring import MonitoringPolicy
from domain.alarms import Alarm
from domain.credit_code import validate_credit_code
from domain.i18n import DEFAULT_LANG
from domain.users import Principal, Role
from services import status as status_service
from storage.downlinks import Downlink

EXAMPLE_ENT = "913301020000000019"


async def visible_enterprise(
    ent: Annotated[
        str,
        Path(
            min_length=1,
            max_length=64,
            description="18-character unified social credit code (check character verified)",
            examples=["913301020000000019"],
        ),
    ],
    principal: PrincipalDep,
) -> str:
    """The `{ent}` path parameter: a valid code (422) the caller may see (403)."""
    code = validate_credit_code(ent)
    ensure_enterprise_access(principal, code)
    return code


VisibleEnt = Annotated[str, Depends(visible_enterprise)]

#: Duty staff who handle alarms, guidance and restart decisions.
Handler = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR, Role.DUTY))]


async def require_enterprise(conn: ConnDep, ent: str) -> str:
    """The enterprise's name; 404 when it is not in the directory."""
    return await status_service.enterprise_name(conn, ent=ent)


async def get_policy(policies: PoliciesDep) -> MonitoringPolicy:
    """The monitoring policy of the process's policies."""
    return policies.monitoring


PolicyDep = Annotated[MonitoringPolicy, Depends(get_policy)]


def visible_filter(principal: Principal, ent: str | None) -> str | None:
    """The enterprise filter of a list: an enterprise account always sees only its own."""
    if principal.role is Role.ENTERPRISE:
        if ent is not None and ent != principal.enterprise_id:
            ensure_enterprise_access(principal, ent)
        return principal.enterprise_id or "-"
    return ent


class AlarmOut(BaseModel):
    """An alarm: severity 红/橙/黄/蓝, rule, subject, evidence and its handling."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 12,
                    "enterprise_id": EXAMPLE_ENT,
                    "enterprise_name": "杭州恒泰化工有限公司",
                    "rule": "gas_out_of_limits",
                    "title": "气体分析不合格",
                    "category": "safety",
                    "subject": "op:HW-20260301-01",
                    "severity": "red",
                    "state": "active",
                    "message": "hot_work HW-20260301-01: gas analysis out of limits: O2 18% …",
                    "evidence": {"problems": ["O2 18% outside 19.5–23.5%"]},
                    "raised_at": "2026-03-01T08:00:00+08:00",
                    "last_seen_at": "2026-03-01T08:00:00+08:00",
                    "occurrences": 1,
                    "cleared": False,
                    "cleared_at": None,
                    "ack_due_at": "2026-03-01T08:10:00+08:00",
                    "escalation_level": 0,
                    "acked_by": None,
                    "acked_at": None,
                    "closed_by": None,
                    "closed_at": None,
                    "cause_category": None,
                    "action_taken": None,
                }
            ]
        }
    )

    id: int
    enterprise_id: str
    enterprise_name: str | None = None
    rule: str
    title: str
    category: str
    subject: str
    severity: str = Field(description="red | orange | yellow | blue (红/橙/黄/蓝)")
    state: str = Field(description="active | acknowledged | closed")
    message: str = Field(description="the alarm's text in the caller's language (Accept-Language)")
    message_code: str | None = Field(
        default=None, description="stable catalogue code of the text (docs/i18n.md)"
    )
    message_params: dict[str, Any] = Field(
        default_factory=dict, description="parameters the text is rendered from"
    )
    evidence: dict[str, Any]
    raised_at: datetime
    last_seen_at: datetime
    occurrences: int
    cleared: bool = Field(description="the condition went away; a person still closes the alarm")
    cleared_at: datetime | None
    ack_due_at: datetime = Field(description="escalated when not acknowledged by then")
    escalation_level: int
    acked_by: str | None
    acked_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None
    cause_category: str | None
    action_taken: str | None


def alarm_out(
    a: Alarm, policy: MonitoringPolicy, name: str | None = None, lang: str = DEFAULT_LANG
) -> AlarmOut:
    """The HTTP shape of an alarm, its text in `lang` (the stored text is zh-CN)."""
    spec = policy.rules.get(a.rule)
    return AlarmOut(
        id=a.id,
        enterprise_id=a.enterprise_id,
        enterprise_name=name,
        rule=a.rule,
        title=spec.title if spec else a.rule,
        category=spec.category if spec else "other",
        subject=a.subject,
        severity=a.severity.value,
        state=a.state.value,
        message=a.text(lang),
        message_code=a.message_code,
        message_params=a.message_params,
        evidence=a.evidence,
        raised_at=a.raised_at,
        last_seen_at=a.last_seen_at,
        occurrences=a.occurrences,
        cleared=a.cleared,
        cleared_at=a.cleared_at,
        ack_due_at=a.ack_due_at,
        escalation_level=a.escalation_level,
        acked_by=a.acked_by,
        acked_at=a.acked_at,
        closed_by=a.closed_by,
        closed_at=a.closed_at,
        cause_category=a.cause_category,
        action_taken=a.action_taken,
    )


class DownlinkOut(BaseModel):
    """A guidance or notice and its delivery state."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "ref": "G7",
                    "channel": "guidance",
                    "enterprise_id": EXAMPLE_ENT,
                    "kind": None,
                    "text": "请立即停止罐区动火作业，重新进行气体分析。",
                    "sender": "duty",
                    "requires_ack": True,
                    "ts": "2026-03-01T08:00:00+08:00",
                    "created_at": "2026-03-01T08:00:00+08:00",
                    "expires_at": "2026-03-02T08:00:00+08:00",
                    "state": "acknowledged",
                    "attempts": 1,
                    "last_sent_at": "2026-03-01T08:00:01+08:00",
                    "acked_at": "2026-03-01T08:02:00+08:00",
                    "acked_by": "值班长 张三",
                }
            ]
        }
    )

    id: int
    ref: str = Field(description="the id the site sees and acknowledges on …/ack")
    channel: str = Field(description="guidance | notice")
    enterprise_id: str
    kind: str | None = Field(description="notice kind (e.g. restart_decision)")
    text: str
    sender: str
    requires_ack: bool
    ts: datetime
    created_at: datetime
    expires_at: datetime
    state: str = Field(
        description="pending | sent | delivered | received | acknowledged | expired. With "
        "requires_ack: sent (published, waiting for the ack) → acknowledged (the site's ack "
        "arrived). Without: delivered (published once; the service does not know whether the site "
        "got it) → received (the site acknowledged it anyway, acked_at says when)"
    )
    attempts: int
    last_sent_at: datetime | None
    acked_at: datetime | None
    acked_by: str | None


def downlink_out(d: Downlink) -> DownlinkOut:
    """The HTTP shape of a downlink."""
    return DownlinkOut(
        id=d.id,
        ref=d.ref,
        channel=d.channel,
        enterprise_id=d.enterprise_id,
        kind=d.kind,
        text=d.text,
        sender=d.sender,
        requires_ack=d.requires_ack,
        ts=d.created_at,
        created_at=d.created_at,
        expires_at=d.expires_at,
        state=d.state,
        attempts=d.attempts,
        last_sent_at=d.last_sent_at,
        acked_at=d.acked_at,
        acked_by=d.acked_by,
    )
