"""The team-only rule: only a team officer with a valid certificate records; experts are
辅助人员 who never sign; a team needs one leader and two officers (行政处罚法 第四十二条)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from domain.errors import Forbidden, ValidationFailed
from domain.inspection_access import (
    TeamMember,
    ensure_may_record,
    ensure_reason,
    validate_team,
)
from domain.users import Principal, Role

TODAY = date(2026, 12, 3)
LEADER = TeamMember("ZF-1", "leader", "张三", "新A-1", date(2024, 1, 1), date(2029, 1, 1), False)
MEMBER = replace(LEADER, officer_id="ZF-2", role="member", name="李四", certificate_no="新A-2")
EXPERT = TeamMember("ZJ-1", "expert", "王专家", "", None, None, True)
TEAM = [LEADER, MEMBER, EXPERT]
INSPECTOR = Principal(7, "insp", Role.INSPECTOR)


def test_team_officer_records() -> None:
    assert ensure_may_record(INSPECTOR, officer_id="ZF-2", team=TEAM, today=TODAY) == MEMBER


@pytest.mark.parametrize(
    ("principal", "officer", "text"),
    [
        (INSPECTOR, "ZF-9", "不在检查组中"),
        (INSPECTOR, None, "未关联执法人员"),
        (INSPECTOR, "ZJ-1", "是辅助人员（专家），不能签署"),
        (Principal(1, "boss", Role.SUPERVISOR), "ZF-1", "只有检查组中的执法人员"),
        (Principal(1, "admin", Role.ADMIN), None, "只有检查组中的执法人员"),
    ],
)
def test_everyone_else_is_refused_in_zh(
    principal: Principal, officer: str | None, text: str
) -> None:
    with pytest.raises(Forbidden, match=text):
        ensure_may_record(principal, officer_id=officer, team=TEAM, today=TODAY)


def test_expired_certificate_may_not_record() -> None:
    expired = [replace(LEADER, certificate_valid_to=date(2026, 12, 2)), MEMBER]
    with pytest.raises(Forbidden, match="执法证件无效或已过期"):
        ensure_may_record(INSPECTOR, officer_id="ZF-1", team=expired, today=TODAY)
    ensure_may_record(INSPECTOR, officer_id="ZF-1", team=expired, today=date(2026, 12, 2))


def test_valid_team_passes() -> None:
    validate_team(TEAM, today=TODAY)


@pytest.mark.parametrize(
    ("team", "text"),
    [
        ([LEADER, EXPERT], "至少需要两名执法人员"),  # an expert is never the second officer
        ([MEMBER, replace(LEADER, role="member")], "有且只有一名检查组长"),
        ([replace(EXPERT, role="leader"), LEADER, MEMBER], "不能担任检查组长"),
        ([LEADER, MEMBER, replace(MEMBER, officer_id="ZF-3", role="expert")], "不能作为辅助人员"),
        ([LEADER, MEMBER, MEMBER], "只能出现一次"),
        ([LEADER, replace(MEMBER, active=False)], "已停用"),
        ([LEADER, replace(MEMBER, certificate_no="")], "执法证件无效"),
    ],
)
def test_bad_teams_are_refused(team: list[TeamMember], text: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        validate_team(team, today=TODAY)
    assert any(text in p for p in info.value.details["team"]), info.value.details


def test_conflicted_officer_must_recuse() -> None:
    with pytest.raises(ValidationFailed, match="应当回避"):
        validate_team(TEAM, conflicts={"ZF-2"}, today=TODAY)


def test_a_reason_is_a_real_sentence() -> None:
    with pytest.raises(ValidationFailed, match="至少5个字"):
        ensure_reason("调整")
    assert ensure_reason("  原组长病假，调整检查组 ") == "原组长病假，调整检查组"
