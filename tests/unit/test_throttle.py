"""Sign-in lockout arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.throttle import lockout_for

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def _ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


def test_below_the_limit_is_not_locked() -> None:
    assert lockout_for(_ago(1, 2, 3, 4), limit=5, window=WINDOW, now=NOW, scope="username") is None


def test_limit_reached_locks_until_the_limit_th_newest_ages_out() -> None:
    lock = lockout_for(_ago(1, 2, 3, 4, 10), limit=5, window=WINDOW, now=NOW, scope="username")
    assert lock is not None
    assert lock.scope == "username"
    assert lock.failures == 5
    assert lock.retry_after_s == 5 * 60


def test_failures_outside_the_window_do_not_count() -> None:
    assert lockout_for(_ago(1, 2, 3, 4, 16), limit=5, window=WINDOW, now=NOW, scope="ip") is None


def test_retry_after_is_at_least_one_second() -> None:
    lock = lockout_for(_ago(14.9999), limit=1, window=WINDOW, now=NOW, scope="ip")
    assert lock is not None
    assert lock.retry_after_s == 1
