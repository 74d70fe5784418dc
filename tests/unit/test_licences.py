"""Licence reminders in calendar months, with each type's renewal procedure (measure 20)."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from config.policy_enforcement import load_licence_renewal
from config.settings import DEFAULT_POLICY_DIR
from domain.errors import ConfigurationError
from domain.licences import add_months, licence_reminders, stage_starts

SCHEDULE = load_licence_renewal(DEFAULT_POLICY_DIR)
VALID_TO = date(2027, 6, 30)


def _lic(kind: str = "安全生产许可证", valid_to: date = VALID_TO) -> dict[str, str]:
    return {"kind": kind, "number": "(新)WH安许证字〔2024〕001", "valid_to": valid_to.isoformat()}


def test_calendar_months_clamp_to_the_month_end() -> None:
    assert add_months(date(2027, 6, 30), -4) == date(2027, 2, 28)
    assert add_months(date(2028, 6, 30), -4) == date(2028, 2, 29)
    assert add_months(date(2027, 1, 31), -3) == date(2026, 10, 31)
    assert add_months(date(2027, 3, 15), 12) == date(2028, 3, 15)


def test_stages_first_at_four_months_then_deadline_last_and_expired() -> None:
    rule = SCHEDULE.rule("安全生产许可证")
    starts = {s.name: s.since for s in stage_starts(VALID_TO, rule, SCHEDULE)}
    assert starts == {
        "first": date(2027, 2, 28),
        "deadline": date(2027, 3, 30),  # 期满前3个月 (安全生产许可证条例 第九条)
        "last": date(2027, 5, 30),
        "expired": date(2027, 7, 1),
    }
    assert starts["first"] < starts["deadline"]  # never already past at the first reminder


def test_each_stage_has_its_own_text() -> None:
    def one(day: date) -> tuple[str, str]:
        [r] = licence_reminders("E", [_lic()], today=day, schedule=SCHEDULE)
        return r.stage, r.text

    assert licence_reminders("E", [_lic()], today=date(2027, 2, 27), schedule=SCHEDULE) == []
    stage, text = one(date(2027, 2, 28))
    assert stage == "first"
    assert "2027年3月30日前" in text
    assert "原安全生产许可证颁发管理机关" in text
    assert "办理程序" in text
    assert "延期条件" in text
    assert "第九条" in text
    stage, text = one(date(2027, 3, 30))
    assert stage == "deadline"
    assert "最后期限" in text
    stage, text = one(date(2027, 5, 30))
    assert stage == "last"
    assert "已过" in text
    assert "还有31天" in text
    assert "第二十条" in text
    stage, text = one(date(2027, 7, 1))
    assert stage == "expired"
    assert "已于2027年6月30日期满" in text


def test_a_licence_100_days_from_expiry_names_the_procedure() -> None:
    today = VALID_TO - timedelta(days=100)
    [r] = licence_reminders("E", [_lic()], today=today, schedule=SCHEDULE)
    assert r.stage == "first"
    assert SCHEDULE.rule("安全生产许可证").procedure in r.text


def test_the_type_is_read_from_kind_as_stored() -> None:
    [r] = licence_reminders(
        "E", [_lic("危险化学品经营许可证")], today=date(2027, 3, 1), schedule=SCHEDULE
    )
    assert r.text.startswith("危险化学品经营许可证（编号")
    assert "危险化学品经营许可证:" in r.subject
    # rows written before the fix under `type` still name their type
    legacy = {"type": "安全生产许可证", "number": "1", "valid_to": VALID_TO.isoformat()}
    [r] = licence_reminders("E", [legacy], today=date(2027, 3, 1), schedule=SCHEDULE)
    assert r.text.startswith("安全生产许可证")
    # an unknown type gets the default rule, never nothing
    [r] = licence_reminders(
        "E", [_lic("烟花爆竹经营许可证")], today=date(2027, 3, 1), schedule=SCHEDULE
    )
    assert SCHEDULE.default.procedure in r.text


def test_bad_rows_are_skipped() -> None:
    bad = [{"kind": "x"}, {"valid_to": "not a date"}]
    assert licence_reminders("E", bad, today=VALID_TO, schedule=SCHEDULE) == []


def test_a_file_laxer_than_the_statute_is_refused(tmp_path: Path) -> None:
    shutil.copy(DEFAULT_POLICY_DIR / "licence_renewal.yaml", tmp_path / "licence_renewal.yaml")
    path = tmp_path / "licence_renewal.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("apply_months: 3", "apply_months: 2", 1),
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError, match="apply_months"):
        load_licence_renewal(tmp_path)
    path.write_text(
        (DEFAULT_POLICY_DIR / "licence_renewal.yaml")
        .read_text(encoding="utf-8")
        .replace("first_months: 4", "first_months: 3"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError, match="first_months"):
        load_licence_renewal(tmp_path)
