"""Reminder stages: three months before a licence ends, around deadlines, penalty publication."""

from __future__ import annotations

from datetime import date, timedelta

from domain.reminders import (
    OpenFinding,
    PublishedPenalty,
    expired,
    licence_reminders,
    penalty_reminders,
    rectification_reminders,
)

TODAY = date(2026, 11, 29)


def _lic(days: int) -> dict[str, str]:
    return {
        "type": "安全生产许可证",
        "number": "(浙)WH安许证字〔2024〕001",
        "valid_to": (TODAY + timedelta(days=days)).isoformat(),
    }


def test_licence_reminder_starts_three_months_ahead() -> None:
    assert licence_reminders("E", [_lic(91)], today=TODAY, offsets=[90, 30, 7]) == []
    [r] = licence_reminders("E", [_lic(90)], today=TODAY, offsets=[90, 30, 7])
    assert r.stage == "d90"
    assert "90 天后到期" in r.text
    assert licence_reminders("E", [_lic(29)], today=TODAY, offsets=[90, 30, 7])[0].stage == "d30"


def test_licence_reminder_ignores_bad_rows_and_expired() -> None:
    bad = [{"type": "x"}, {"valid_to": "not a date"}, _lic(-3)]
    assert licence_reminders("E", bad, today=TODAY, offsets=[90, 30, 7]) == []


def test_rectification_reminders_before_on_and_after_deadline() -> None:
    def stage(days: int) -> list[str]:
        f = OpenFinding(1, "E", "SP-TRAIN-01", TODAY + timedelta(days=days))
        return [r.stage for r in rectification_reminders([f], today=TODAY, offsets=[3, 0, -1])]

    assert stage(4) == []
    assert stage(3) == ["d3"]
    assert stage(0) == ["d0"]
    assert stage(-5) == ["d-1"]


def test_penalty_publication_end() -> None:
    p = PublishedPenalty(7, "E", "杭应急罚〔2026〕12号", TODAY + timedelta(days=7))
    assert [r.stage for r in penalty_reminders([p], today=TODAY, offsets=[7, 0])] == ["d7"]
    assert expired([p], today=TODAY) == []
    assert expired([p], today=TODAY + timedelta(days=8)) == [7]
