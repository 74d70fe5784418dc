"""Sign-in attempts: recorded for throttling and kept for a day or so.

Throttling is atomic: `lock` serialises the attempts of one username and of one address (a
transaction-scoped advisory lock, user before address so two locks never deadlock); under it
the caller reads the recent failures and either records a refusal or `start`s a 'pending'
attempt, then commits. A pending attempt counts as a failure until `finish` resolves it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection

from storage.errors import amapped_errors
from storage.rows import fetch_all, fetch_one

# Always in this order (username, then address): no two sign-ins can wait on each other.
LOCK = """
SELECT pg_advisory_xact_lock(hashtextextended('login:user:' || %(username)s, 0)),
       pg_advisory_xact_lock(hashtextextended('login:ip:' || %(client_ip)s, 0))
"""
START = """
INSERT INTO login_attempts (username, client_ip, outcome)
VALUES (%(username)s, %(client_ip)s, 'pending') RETURNING id
"""
FINISH = "UPDATE login_attempts SET outcome = %(outcome)s WHERE id = %(id)s AND outcome = 'pending'"
INSERT = """
INSERT INTO login_attempts (username, client_ip, outcome)
VALUES (%(username)s, %(client_ip)s, %(outcome)s)
"""
# Failures (and attempts still being checked) of a username since its last successful sign-in.
USER_FAILURES = """
SELECT ts FROM login_attempts
 WHERE username = %(username)s AND outcome IN ('failed', 'pending') AND ts > now() - %(window)s
   AND ts > coalesce((SELECT max(ts) FROM login_attempts
                       WHERE username = %(username)s AND outcome = 'ok'), '-infinity')
 ORDER BY ts DESC LIMIT %(limit)s
"""
IP_FAILURES = """
SELECT ts FROM login_attempts
 WHERE client_ip = %(client_ip)s AND outcome IN ('failed', 'pending') AND ts > now() - %(window)s
 ORDER BY ts DESC LIMIT %(limit)s
"""
NOW = "SELECT now() AS now"
PRUNE = "DELETE FROM login_attempts WHERE ts < now() - %(keep)s"


async def record(
    conn: AsyncConnection[Any], *, username: str, client_ip: str, outcome: str
) -> None:
    """Append one attempt (outcome ok, failed or throttled)."""
    async with amapped_errors():
        await conn.execute(
            INSERT, {"username": username[:200], "client_ip": client_ip, "outcome": outcome}
        )


async def lock(conn: AsyncConnection[Any], *, username: str, client_ip: str) -> None:
    """Serialise sign-ins of this username and this address until the transaction ends."""
    async with amapped_errors():
        await conn.execute(LOCK, {"username": username[:200], "client_ip": client_ip})


async def start(conn: AsyncConnection[Any], *, username: str, client_ip: str) -> int:
    """Record an attempt whose password is about to be checked; it counts as a failure until
    `finish`."""
    params = {"username": username[:200], "client_ip": client_ip}
    row = await fetch_one(conn, statement=START, params=params)
    assert row is not None
    return int(row["id"])


async def finish(conn: AsyncConnection[Any], *, attempt_id: int, outcome: str) -> None:
    """Resolve a pending attempt as ok or failed."""
    async with amapped_errors():
        await conn.execute(FINISH, {"id": attempt_id, "outcome": outcome})


async def recent_failures(
    conn: AsyncConnection[Any],
    *,
    username: str,
    client_ip: str,
    window: timedelta,
    user_limit: int,
    ip_limit: int,
) -> tuple[datetime, list[datetime], list[datetime]]:
    """Database time now, and the newest failures per username and per client address."""
    row = await fetch_one(conn, statement=NOW)
    assert row is not None
    by_user = await fetch_all(
        conn,
        statement=USER_FAILURES,
        params={"username": username, "window": window, "limit": user_limit},
    )
    by_ip = await fetch_all(
        conn,
        statement=IP_FAILURES,
        params={"client_ip": client_ip, "window": window, "limit": ip_limit},
    )
    return row["now"], [r["ts"] for r in by_user], [r["ts"] for r in by_ip]


async def prune(conn: AsyncConnection[Any], *, keep: timedelta = timedelta(days=2)) -> int:
    """Delete attempts older than `keep`; return how many."""
    async with amapped_errors():
        cur = await conn.execute(PRUNE, {"keep": keep})
    return cur.rowcount
