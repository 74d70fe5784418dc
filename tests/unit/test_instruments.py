"""The flexible instruments' rules (pure): what a 行政约谈 and its record must state, who reads
the documents, and each document's text with the finding's basis, cause and measure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain import instruments
from domain.documents import TITLES, to_html
from domain.errors import Forbidden, NotFound, RuleViolation, ValidationFailed
from domain.users import Principal, Role

NOW = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")
ENT = "91652301MA7XXXXXX1"


def _who(role: Role, ent: str | None = None) -> Principal:
    return Principal(user_id=1, username="u", role=role, enterprise_id=ent)


def test_an_interview_states_time_place_and_attendee_and_nothing_else_does() -> None:
    with pytest.raises(ValidationFailed) as err:
        instruments.check_meeting(
            kind="interview", meeting_at=NOW - timedelta(minutes=1), place="", attendee="x",
            now=NOW,
        )  # fmt: skip
    assert set(err.value.details) == {"meeting_at", "meeting_place", "meeting_attendee"}
    assert "约谈时间" in err.value.details["meeting_at"]
    instruments.check_meeting(
        kind="interview", meeting_at=NOW + timedelta(days=1), place="会议室", attendee="张总",
        now=NOW,
    )  # fmt: skip
    with pytest.raises(ValidationFailed) as err:
        instruments.check_meeting(kind="warning", meeting_at=None, place="会议室", attendee="",
                                  now=NOW)  # fmt: skip
    assert set(err.value.details) == {"meeting_place"}
    instruments.check_meeting(kind="warning", meeting_at=None, place=" ", attendee="", now=NOW)


def test_the_record_of_an_interview_is_of_a_held_one_with_a_real_paragraph() -> None:
    with pytest.raises(ValidationFailed) as err:
        instruments.check_minutes(
            held_at=NOW + timedelta(hours=1), attendees="张", minutes="太短", now=NOW
        )
    assert set(err.value.details) == {"held_at", "attendees", "minutes"}
    instruments.check_minutes(
        held_at=NOW, attendees="张总", minutes="通报问题，企业承诺十日内整改完毕", now=NOW
    )


@pytest.mark.parametrize(
    ("who", "officer", "allowed"),
    [
        (_who(Role.ADMIN), None, True),
        (_who(Role.SUPERVISOR), None, True),
        (_who(Role.INSPECTOR), "O1", True),
        (_who(Role.INSPECTOR), "O9", False),
        (_who(Role.INSPECTOR), None, False),
        (_who(Role.DUTY), None, False),
        (_who(Role.ENTERPRISE, ENT), None, True),
        (_who(Role.ENTERPRISE, "91652301MA7YYYYYY2"), None, False),
    ],
)
def test_readers_by_ownership(who: Principal, officer: str | None, allowed: bool) -> None:
    def read() -> None:
        instruments.ensure_may_read(who, enterprise_id=ENT, officer_id=officer, team={"O1", "O2"})

    if allowed:
        read()
    else:
        with pytest.raises(Forbidden):
            read()


def test_each_instrument_has_its_own_documents() -> None:
    assert instruments.document_of(measure_id=1, measure_kind="interview",
                                   document="interview_record") == "interview_record"  # fmt: skip
    with pytest.raises(NotFound):
        instruments.document_of(measure_id=1, measure_kind="warning", document="interview_notice")
    with pytest.raises(NotFound):
        instruments.document_of(measure_id=1, measure_kind="stop_power", document="warning_notice")
    with pytest.raises(RuleViolation):
        instruments.ensure_ready(document="interview_record", meeting_at=NOW, held_at=None)
    with pytest.raises(RuleViolation):
        instruments.ensure_ready(document="interview_notice", meeting_at=None, held_at=None)
    assert set(instruments.DOCUMENT_KINDS) <= set(TITLES)


@pytest.mark.parametrize("kind", instruments.DOCUMENT_KINDS)
def test_every_document_lists_basis_cause_and_measure(kind: str) -> None:
    facts = instruments.InstrumentFacts(
        kind=kind,
        bureau="某某应急管理局",
        doc_no="某应急告诫〔2026〕1号",
        measure_no="某应急措施〔2026〕3号",
        enterprise_name="某化工有限公司",
        credit_code=ENT,
        content="予以告诫，限期补训<script>",
        finding_row=(
            "1",
            "SP-TRAIN-01",
            "新员工未经培训上岗",
            "安全生产法 第二十八条",
            "—",
            "组织补训",
            "2026年12月13日",
        ),
        legal_basis="安全生产法 第二十八条",
        deadline=date(2026, 12, 13),
        corrected_on_site=False,
        inspected_on=date(2026, 12, 3),
        officers="张三（组长，执法证号 A1）",
        outcome="first_violation",
        meeting_at=NOW + timedelta(days=1),
        meeting_place="三楼会议室",
        meeting_attendee="王总",
        held_at=NOW,
        attendees="王总、赵某",
        minutes="通报问题，企业承诺整改",
    )
    doc = instruments.build(facts, TZ)
    assert doc.title == TITLES[kind]
    html = to_html(doc)
    for part in (
        "新员工未经培训上岗",
        "安全生产法 第二十八条",
        "组织补训",
        "某应急措施〔2026〕3号",
    ):
        assert part in html
    assert "<script>" not in html
    text = "".join(doc.paragraphs)
    if kind == "rectify_notice":
        assert "第六十五条第一款第（二）项" in text
        assert "2026年12月13日前改正" in text
    if kind == "education_notice":
        assert "第三十三条第三款" in text  # a 首违 outcome: the Act's duty to educate
    if kind == "interview_notice":
        assert ("约谈时间", "2026年12月4日 12:00") in doc.fields  # bureau time
    if kind == "interview_record":
        assert "通报问题，企业承诺整改" in text
        assert "被约谈人（签名）：" in doc.signatures
    if kind == "warning_notice":
        assert "不属于《中华人民共和国行政处罚法》第九条规定的警告" in text
