"""Video admission: a per-account cap and slots kept for duty staff; who may end a session."""

from __future__ import annotations

from domain.i18n import EN, Message, render
from domain.video import admission_problem, may_hang_up

LIMITS = {"max_sessions": 4, "max_per_user": 2, "duty_reserve": 1}


def _text(problem: Message | None) -> str:
    return render(problem, EN) if problem is not None else ""


def _problem(total: int, mine: int, duty: bool) -> Message | None:
    return admission_problem(
        open_total=total, open_by_requester=mine, may_use_reserve=duty, **LIMITS
    )


def test_one_account_cannot_exhaust_the_global_limit() -> None:
    assert _problem(0, 0, duty=True) is None
    assert _problem(1, 1, duty=True) is None
    assert "limit 2" in _text(_problem(2, 2, duty=True))


def test_the_last_slot_is_kept_for_duty_staff() -> None:
    assert _problem(2, 0, duty=False) is None
    assert "reserved for duty staff" in _text(_problem(3, 0, duty=False))
    assert "留给值班人员" in render(_problem(3, 0, duty=False) or "")
    assert _problem(3, 0, duty=True) is None
    assert "limit is 4" in _text(_problem(4, 0, duty=True))


def test_an_inspector_ends_only_its_own_sessions() -> None:
    assert may_hang_up(staff_role="duty", username="d", requested_by="i")
    assert may_hang_up(staff_role="supervisor", username="s", requested_by="d")
    assert not may_hang_up(staff_role="inspector", username="i", requested_by="d")
    assert may_hang_up(staff_role="inspector", username="i", requested_by="i")
