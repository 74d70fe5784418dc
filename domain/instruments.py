"""The flexible instruments of measure 4 (责令限期改正、批评教育、行政约谈、行政告诫) as documents
(执法文书), pure: what a 行政约谈 must state, what its record must hold, and the text of each
instrument's document built from its record and the finding it acts on.

Titles (the usual names in enforcement practice; sources in docs/enforcement.md):
责令限期改正通知书, 批评教育告知书, 约谈通知书, 约谈记录, 行政告诫书. 行政告诫 and 批评教育 are
not administrative penalties (行政处罚法 第九条 lists 警告 among them; a 告诫 is not a 警告).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from domain.documents import Document, findings_table
from domain.errors import Forbidden, NotFound, RuleViolation, ValidationFailed
from domain.i18n import Message, msg, render
from domain.inspection_access import OVERSEERS
from domain.users import Principal, Role

#: Each instrument's documents, in the order they are issued.
INSTRUMENT_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "rectify_order": ("rectify_notice",),
    "education": ("education_notice",),
    "interview": ("interview_notice", "interview_record"),
    "warning": ("warning_notice",),
}
DOCUMENT_KINDS = tuple(k for kinds in INSTRUMENT_DOCUMENTS.values() for k in kinds)
MIN_PLACE = 2
MIN_ATTENDEE = 2
MIN_MINUTES = 10
#: 安全生产法 第六十五条第一款第（二）项: 对检查中发现的安全生产违法行为，当场予以纠正或者
#: 要求限期改正.
ORDER_BASIS = "《中华人民共和国安全生产法》第六十五条第一款第（二）项"
#: The seed policy's measure 4 (柔性执法: 责令限期改正、批评教育、行政约谈、行政告诫).
POLICY_BASIS = "包容审慎监管措施第四条（柔性执法）"


def ensure_may_read(
    principal: Principal, *, enterprise_id: str, officer_id: str | None, team: Collection[str]
) -> None:
    """Who reads an instrument's documents: supervisors and admins, the officers of the
    inspection's team, and the enterprise the document is addressed to (its own only)."""
    if principal.role in OVERSEERS:
        return
    if principal.role is Role.ENTERPRISE and principal.enterprise_id == enterprise_id:
        return
    if principal.role is Role.INSPECTOR and officer_id is not None and officer_id in team:
        return
    raise Forbidden(msg("document.team_only"))


def document_of(*, measure_id: int, measure_kind: str, document: str) -> str:
    """The document kind asked for, if the measure has it (NotFound otherwise)."""
    if document not in INSTRUMENT_DOCUMENTS.get(measure_kind, ()):
        raise NotFound(
            msg(
                "document.not_for_measure",
                measure_id=measure_id,
                kind=measure_kind,
                document=document,
            )
        )
    return document


def ensure_ready(*, document: str, meeting_at: datetime | None, held_at: datetime | None) -> None:
    """A 约谈通知书 needs the meeting stated, a 约谈记录 the meeting held and recorded."""
    if document == "interview_notice" and meeting_at is None:
        raise RuleViolation(msg("document.no_meeting"))
    if document == "interview_record" and held_at is None:
        raise RuleViolation(msg("document.no_minutes"))


def check_meeting(
    *,
    kind: str,
    meeting_at: datetime | None,
    place: str,
    attendee: str,
    now: datetime,
) -> None:
    """A 行政约谈 states when (not in the past), where and whom (its 约谈通知书); no other
    measure takes these fields. Refused field by field in zh-CN."""
    problems: dict[str, Message] = {}
    if kind != "interview":
        given = {"meeting_at": meeting_at is not None, "meeting_place": place.strip(),
                 "meeting_attendee": attendee.strip()}  # fmt: skip
        for name, value in given.items():
            if value:
                problems[name] = msg("measure.meeting_only_interview")
    else:
        if meeting_at is None or meeting_at < now:
            problems["meeting_at"] = msg("measure.meeting_at_required")
        if len(place.strip()) < MIN_PLACE:
            problems["meeting_place"] = msg("measure.meeting_place_required", min=MIN_PLACE)
        if len(attendee.strip()) < MIN_ATTENDEE:
            problems["meeting_attendee"] = msg("measure.meeting_attendee_required")
    if problems:
        raise ValidationFailed(
            msg("measure.refused", problems=list(problems.values())),
            details={k: render(v) for k, v in problems.items()},
        )


def check_minutes(*, held_at: datetime, attendees: str, minutes: str, now: datetime) -> None:
    """The record of a held 约谈: when (not in the future), who attended for the enterprise,
    and what was said and required (a real paragraph)."""
    problems: dict[str, Message] = {}
    if held_at > now:
        problems["held_at"] = msg("measure.held_at_future")
    if len(attendees.strip()) < MIN_ATTENDEE:
        problems["attendees"] = msg("measure.attendees_required")
    if len(minutes.strip()) < MIN_MINUTES:
        problems["minutes"] = msg("measure.minutes_too_short", min=MIN_MINUTES)
    if problems:
        raise ValidationFailed(
            msg("measure.minutes_refused", problems=list(problems.values())),
            details={k: render(v) for k, v in problems.items()},
        )


@dataclass(frozen=True, slots=True)
class InstrumentFacts:
    """What an instrument's document is built from: the measure, the finding it acts on (its
    table row: basis, cause, measure, deadline), the inspection and the people."""

    kind: str  # the document kind
    bureau: str
    doc_no: str
    measure_no: str
    enterprise_name: str
    credit_code: str
    content: str
    finding_row: tuple[str, ...]
    legal_basis: str
    deadline: date | None
    corrected_on_site: bool
    inspected_on: date | None
    officers: str
    outcome: str | None = None  # the finding's decision or recommendation
    meeting_at: datetime | None = None
    meeting_place: str = ""
    meeting_attendee: str = ""
    held_at: datetime | None = None
    attendees: str = ""
    minutes: str = ""


def zh_date(value: date | datetime | None, tz: ZoneInfo) -> str:
    """A date as written on a document: 2026年12月3日 (a datetime in the bureau's zone)."""
    if value is None:
        return "—"
    day = value.astimezone(tz).date() if isinstance(value, datetime) else value
    return f"{day.year}年{day.month}月{day.day}日"


def zh_time(value: datetime | None, tz: ZoneInfo) -> str:
    """A date and time as written on a document: 2026年12月3日 09:30."""
    if value is None:
        return "—"
    return f"{zh_date(value, tz)} {value.astimezone(tz):%H:%M}"


def build(f: InstrumentFacts, tz: ZoneInfo) -> Document:
    """The document of an instrument, listing the finding's basis, cause and measure."""
    base: tuple[tuple[str, str], ...] = (
        ("被检查单位", f.enterprise_name),
        ("统一社会信用代码", f.credit_code),
        ("检查时间", zh_date(f.inspected_on, tz)),
        ("执法人员", f.officers),
        ("措施登记号", f.measure_no),
    )
    table = (findings_table([f.finding_row]),)
    due = "当场改正" if f.corrected_on_site else f"于{zh_date(f.deadline, tz)}前"
    facts = f"经检查，你单位存在上表所列问题，违反了{f.legal_basis}的规定。"
    if f.kind == "rectify_notice":
        paragraphs: tuple[str, ...] = (
            facts,
            f"依据{ORDER_BASIS}，责令你单位{due}改正，并将改正情况书面报告本局。",
            f"改正要求：{f.content}",
            "改正期间应当采取措施保证安全；逾期未改正的，依法处理。",
            "如不服本通知，可以依法申请行政复议或者提起行政诉讼。",
        )
    elif f.kind == "education_notice":
        lenient = f.outcome in ("no_penalty", "first_violation")
        paragraphs = (
            facts,
            f"依据{POLICY_BASIS}"
            + ("及《中华人民共和国行政处罚法》第三十三条第三款" if lenient else "")
            + "，本局对你单位进行批评教育：",
            f.content,
            f"你单位应当吸取教训，{due}完成整改，加强安全生产管理。本告知书不是行政处罚。",
        )
    elif f.kind == "interview_notice":
        base += (
            ("约谈时间", zh_time(f.meeting_at, tz)),
            ("约谈地点", f.meeting_place),
            ("被约谈人", f.meeting_attendee),
        )
        paragraphs = (
            facts,
            f"依据{POLICY_BASIS}，本局决定对你单位进行行政约谈。",
            f"约谈事由及要求：{f.content}",
            f"请被约谈人按时到场（本人参加，不得委托他人），并携带上述问题的整改方案；"
            f"整改{due}完成。",
        )
    elif f.kind == "interview_record":
        base += (
            ("约谈时间", zh_time(f.held_at, tz)),
            ("约谈地点", f.meeting_place),
            ("约谈人", f.officers),
            ("被约谈人及参加人员", f.attendees),
        )
        paragraphs = (
            f"约谈事由及要求：{f.content}",
            f"约谈情况：{f.minutes}",
            f"被约谈单位应当{due}完成上表所列问题的整改，并书面报告整改情况。",
        )
        return Document(
            kind=f.kind,
            bureau=f.bureau,
            doc_no=f.doc_no,
            fields=base,
            tables=table,
            paragraphs=paragraphs,
            signatures=("约谈人（签名）：", "被约谈人（签名）：", "记录人（签名）："),
        )
    else:  # warning_notice
        paragraphs = (
            facts,
            f"依据{POLICY_BASIS}，本局对你单位予以行政告诫：{f.content}",
            f"你单位应当{due}改正，并举一反三，防止同类问题再次发生。",
            "本告诫书为行政指导性质的告诫，不属于《中华人民共和国行政处罚法》第九条规定的警告等"
            "行政处罚。",
        )
    return Document(
        kind=f.kind,
        bureau=f.bureau,
        doc_no=f.doc_no,
        fields=base,
        tables=table,
        paragraphs=paragraphs,
        signatures=("执法人员（签名）：", "被检查单位负责人（签收）："),
    )
