"""The change feed behind live push: write in the caller's transaction, read after an id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from storage.errors import amapped_errors

INSERT = """
INSERT INTO live_changes (kind, enterprise_id, payload)
VALUES (%(kind)s, %(enterprise_id)s, %(payload)s)
RETURNING id
"""
SINCE = """
SELECT id, ts, kind, enterprise_id, payload FROM live_changes
 WHERE id > %(after)s ORDER BY id LIMIT %(limit)s
"""
LATEST_ID = "SELECT coalesce(max(id), 0) FROM live_changes"
CHANNEL = "safewatch_live"


@dataclass(frozen=True, slots=True)
class LiveChange:
    """One change pushed to dashboards."""

    id: int
    ts: datetime
    kind: str
    enterprise_id: str | None
    payload: dict[str, Any]


async def publish_change(
    conn: AsyncConnection[Any], *, kind: str, enterprise_id: str | None, payload: dict[str, Any]
) -> int:
    """Record a change (e.g. kind='alarm', 'status', 'guidance', 'video'); NOTIFY on commit."""
    async with amapped_errors():
        cur = await conn.execute(
            INSERT, {"kind": kind, "enterprise_id": enterprise_id, "payload": Jsonb(payload)}
        )
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def changes_since(
    conn: AsyncConnection[Any], *, after: int, limit: int = 500
) -> list[LiveChange]:
    """Changes with id > after, oldest first."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(LiveChange)) as cur:
        await cur.execute(SINCE, {"after": after, "limit": limit})
        return await cur.fetchall()


async def latest_id(conn: AsyncConnection[Any]) -> int:
    """The id of the newest change (0 when none)."""
    row = await (await conn.execute(LATEST_ID)).fetchone()
    return int(row[0]) if row else 0
