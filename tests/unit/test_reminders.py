"""Reminder stages around rectification deadlines and penalty publication (licences:
tests/unit/test_licences.py)."""

from __future__ import annotations

from datetime import date, timedelta

from domain.reminders import (
    OpenFinding,
    PublishedPenalty,
    expired,
    penalty_reminders,
    rectification_reminders,
)

TODAY = date(2026, 11, 29)


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
