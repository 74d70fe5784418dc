"""The rectification loop's rules (pure): order states, extension requests, 复查 results, the
flexible instruments (measure 4) and the preconditions of coercive measures (measure 3).

Sources: 安全生产法 (2021) 第六十五条第一款第（三）项 — 重大事故隐患排除前或者排除过程中无法
保证安全的，应当责令从危险区域内撤出作业人员，责令暂时停产停业或者停止使用相关设施、设备;
第七十条 — 生产经营单位拒不执行（停产停业、停止使用的决定），有发生生产安全事故的现实危险的，
在保证安全的前提下，经本部门主要负责人批准，可以采取通知有关单位停止供电 … 措施
(书面通知，除紧急情形外提前二十四小时)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain.enforcement import Severity
from domain.errors import RuleViolation, ValidationFailed
from domain.i18n import Message, msg, render

ORDER_STATES = ("issued", "acknowledged", "submitted", "overdue", "closed")
#: Flexible instruments (measure 4) and coercive measures (measure 3).
INSTRUMENTS = ("rectify_order", "education", "interview", "warning")
COERCIVE = ("suspend_production", "stop_equipment", "stop_power")
MEASURE_KINDS = INSTRUMENTS + COERCIVE
#: An extension moves a deadline by at most this many days (bureau interpretation).
MAX_EXTENSION_DAYS = 60
MIN_TEXT = 5


def overdue_alarm_subject(order_id: int) -> str:
    """The subject of an order's overdue alarm: one open alarm per order (alarms_open_key)."""
    return f"rectification:{order_id}"


def ensure_open(state: str, order_id: int) -> None:
    """A closed order takes no acknowledgement, evidence or extension."""
    if state == "closed":
        raise RuleViolation(msg("rectification.closed", order_id=order_id))


def after_acknowledgement(state: str) -> str:
    """The state once the enterprise acknowledged the order (evidence already sent stays)."""
    return "acknowledged" if state == "issued" else state


def is_overdue(*, state: str, deadline: date, today: date) -> bool:
    """An order not closed whose deadline has passed (escalated once)."""
    return state not in ("closed", "overdue") and today > deadline


def check_extension(*, requested: date, current: date, today: date, reason: str) -> str:
    """A later deadline, at most MAX_EXTENSION_DAYS beyond the current one, with a reason."""
    problems: dict[str, Message] = {}
    if requested <= current or requested < today:
        problems["requested_deadline"] = msg("rectification.extension_not_later", current=current)
    elif requested > current + timedelta(days=MAX_EXTENSION_DAYS):
        problems["requested_deadline"] = msg(
            "rectification.extension_too_long", days=MAX_EXTENSION_DAYS
        )
    text = reason.strip()
    if len(text) < MIN_TEXT:
        problems["reason"] = msg("inspection.reason_required", min=MIN_TEXT)
    if problems:
        raise ValidationFailed(
            msg("rectification.extension_refused", problems=list(problems.values())),
            details={k: render(v) for k, v in problems.items()},
        )
    return text


def check_granted(*, granted: date, requested: date, current: date, today: date) -> None:
    """A deadline a supervisor grants: later than the current one and not in the past, and never
    more than the enterprise asked for (bureau interpretation: a shorter extension may be granted,
    a longer one is not)."""
    if granted <= current or granted < today:
        problem = msg("rectification.granted_not_later", current=current)
    elif granted > requested:
        problem = msg("rectification.granted_beyond_request", requested=requested)
    else:
        return
    raise ValidationFailed(
        msg("rectification.extension_refused", problems=[problem]),
        details={"deadline": render(problem)},
    )


@dataclass(frozen=True, slots=True)
class MeasureFacts:
    """What the form states for a measure."""

    kind: str
    severity: Severity
    safety_not_ensured: bool = False
    refused_before: bool = False  # a suspension/stop decision on this finding was refused
    imminent_danger: bool = False
    head_approval: str = ""


def check_measure(facts: MeasureFacts) -> None:
    """Refuse a measure whose legal preconditions are not recorded (field by field, zh-CN)."""
    problems: dict[str, Message] = {}
    if facts.kind not in MEASURE_KINDS:
        problems["kind"] = msg("measure.kind_unknown", kind=facts.kind)
    elif facts.kind in COERCIVE:
        if facts.severity is not Severity.MAJOR_HAZARD:
            problems["kind"] = msg("measure.major_only")
        if facts.kind in ("suspend_production", "stop_equipment") and not facts.safety_not_ensured:
            problems["safety_not_ensured"] = msg("measure.safety_not_ensured")
        if facts.kind == "stop_power":
            if not facts.refused_before:
                problems["refused_before"] = msg("measure.power_needs_refusal")
            if not facts.imminent_danger:
                problems["imminent_danger"] = msg("measure.power_needs_danger")
            if len(facts.head_approval.strip()) < MIN_TEXT:
                problems["head_approval"] = msg("measure.power_needs_approval")
    if problems:
        raise ValidationFailed(
            msg("measure.refused", problems=list(problems.values())),
            details={k: render(v) for k, v in problems.items()},
        )


def doc_number(prefix: str, year: int, n: int) -> str:
    """A document number as the bureau writes it: 昌州应急责改〔2026〕7号."""
    return f"{prefix}〔{year}〕{n}号"
