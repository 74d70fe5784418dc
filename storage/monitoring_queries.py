"""Read-side queries of remote monitoring for the API (status page, history, names)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool

from storage.errors import amapped_errors, mapped_errors

PRESENCE = """
SELECT presence_online, presence_at, last_activity_at FROM enterprise_status
 WHERE enterprise_id = %(ent)s
"""
NAMES = "SELECT credit_code, name FROM enterprises WHERE credit_code = ANY(%(codes)b::text[])"
NAME = "SELECT name FROM enterprises WHERE credit_code = %(code)s"
EVENTS = """
SELECT ts, event_id, type, payload, received_at, count(*) OVER () AS total FROM events
 WHERE enterprise_id = %(ent)s
   AND (%(lo)s::timestamptz IS NULL OR ts >= %(lo)s)
   AND (%(hi)s::timestamptz IS NULL OR ts < %(hi)s)
   AND (%(type)s::text IS NULL OR type = %(type)s)
 ORDER BY ts DESC, event_id DESC
 LIMIT %(limit)s OFFSET %(offset)s
"""
ACTIVE_CODES = "SELECT credit_code FROM enterprises WHERE NOT deregistered ORDER BY 1"
OPEN_ALARMS = """
SELECT count(*), max(severity_rank) FROM alarms WHERE enterprise_id = %(ent)s AND state <> 'closed'
"""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One stored operation event."""

    ts: datetime
    event_id: str
    type: str
    payload: dict[str, Any]
    received_at: datetime


@dataclass(frozen=True, slots=True)
class PresenceRow:
    """The presence columns of a status row."""

    presence_online: bool
    presence_at: datetime | None
    last_activity_at: datetime | None


async def presence(conn: AsyncConnection[Any], ent: str) -> PresenceRow | None:
    """Presence of one enterprise (None if it never sent anything)."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(PresenceRow)) as cur:
        await cur.execute(PRESENCE, {"ent": ent})
        return await cur.fetchone()


async def presence_now(pool: AsyncConnectionPool, ent: str) -> PresenceRow | None:
    """Presence of one enterprise in one round trip: a single-row read needs no transaction,
    so the pooled connection runs it in autocommit (no BEGIN/COMMIT) and is handed back as
    it came."""
    async with pool.connection() as conn:
        await conn.set_autocommit(True)
        try:
            return await presence(conn, ent)
        finally:
            await conn.set_autocommit(False)


async def enterprise_name(conn: AsyncConnection[Any], code: str) -> str | None:
    """The directory name of an enterprise, None if it is not in the directory."""
    async with amapped_errors():
        row = await (await conn.execute(NAME, {"code": code})).fetchone()
    return str(row[0]) if row else None


async def names(conn: AsyncConnection[Any], codes: Sequence[str]) -> dict[str, str]:
    """Directory names of several enterprises."""
    if not codes:
        return {}
    async with amapped_errors():
        rows = await (await conn.execute(NAMES, {"codes": sorted(set(codes))})).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


async def events(
    conn: AsyncConnection[Any],
    *,
    ent: str,
    lo: datetime | None,
    hi: datetime | None,
    type_: str | None,
    limit: int,
    offset: int,
) -> tuple[list[StoredEvent], int]:
    """Events of one enterprise, newest first, with the total count."""
    params = {"ent": ent, "lo": lo, "hi": hi, "type": type_, "limit": limit, "offset": offset}
    async with amapped_errors():
        rows = await (await conn.execute(EVENTS, params)).fetchall()
    total = int(rows[0][-1]) if rows else 0
    return [StoredEvent(*r[:-1]) for r in rows], total


async def open_alarms(conn: AsyncConnection[Any], ent: str) -> tuple[int, int | None]:
    """(count, highest severity rank) of an enterprise's open alarms."""
    async with amapped_errors():
        row = await (await conn.execute(OPEN_ALARMS, {"ent": ent})).fetchone()
    assert row is not None
    return int(row[0]), (int(row[1]) if row[1] is not None else None)


def active_codes(url: str) -> list[str]:
    """Credit codes of every enterprise not deregistered (synchronous, for the CLI)."""
    with mapped_errors(), psycopg.connect(url, connect_timeout=5) as conn:
        return [str(r[0]) for r in conn.execute(ACTIVE_CODES).fetchall()]
