"""Sign-in throttling: how many recent failures lock a username or an address, and how long."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """`limit` failures within `window` lock further attempts until the oldest of them ages out."""

    per_user: int = 5
    per_ip: int = 20
    window: timedelta = timedelta(minutes=15)


DEFAULT_POLICY = ThrottlePolicy()


@dataclass(frozen=True, slots=True)
class Lockout:
    """Why sign-in is refused now and for how many more seconds."""

    scope: str  # "username" or "client_ip"
    failures: int
    retry_after_s: int


def lockout_for(
    failures_newest_first: Sequence[datetime],
    *,
    limit: int,
    window: timedelta,
    now: datetime,
    scope: str,
) -> Lockout | None:
    """Return the lockout implied by the failure times (newest first), or None when not locked.

    The lock lasts while `limit` failures fall inside the window, i.e. until the `limit`-th
    newest failure is older than the window.
    """
    recent = [ts for ts in failures_newest_first if now - ts < window]
    if len(recent) < limit:
        return None
    until = recent[limit - 1] + window
    seconds = max(1, int((until - now).total_seconds() + 0.999))
    return Lockout(scope=scope, failures=len(recent), retry_after_s=seconds)
