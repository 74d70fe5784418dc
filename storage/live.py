"""The `live_changes` table behind live push: written in the caller's transaction (one change or
many in one statement), read after an id or by notified ids, and the LISTEN channel's statements.

Only `services.changes` writes here; everything else reads."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row, scalar_row
from psycopg.types.json import Jsonb

from storage.errors import amapped_errors

INSERT = """
INSERT INTO live_changes (kind, enterprise_id, payload)
VALUES (%(kind)s, %(enterprise_id)s, %(payload)s)
RETURNING id
"""
INSERT_MANY = """
INSERT INTO live_changes (kind, enterprise_id, payload)
SELECT c.kind, c.enterprise_id, c.payload
  FROM ROWS FROM (jsonb_to_recordset(%(changes)s::jsonb)
                  AS (kind text, enterprise_id text, payload jsonb)) WITH ORDINALITY
       AS c(kind, enterprise_id, payload, n)
 ORDER BY c.n
"""
SINCE = """
SELECT id, ts, kind, enterprise_id, payload FROM live_changes
 WHERE id > %(after)s ORDER BY id LIMIT %(limit)s
"""
BY_IDS = """
SELECT id, ts, kind, enterprise_id, payload FROM live_changes
 WHERE id = ANY(%(ids)s) ORDER BY id
"""
LATEST_ID = "SELECT coalesce(max(id), 0) AS id FROM live_changes"
CHANNEL = "safewatch_live"
LISTEN = "LISTEN safewatch_live"  # CHANNEL; the trigger of migration 0005 notifies on it
KEEPALIVE = "SELECT 1"

#: A change to write: (kind, enterprise_id, payload), e.g. ("alarm", "9133…", {...}).
Change = tuple[str, str | None, dict[str, Any]]


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
    """Record one change (e.g. kind='alarm', 'status', 'guidance', 'video'); NOTIFY on commit."""
    async with amapped_errors(), conn.cursor(row_factory=scalar_row) as cur:
        await cur.execute(
            INSERT, {"kind": kind, "enterprise_id": enterprise_id, "payload": Jsonb(payload)}
        )
        change_id = await cur.fetchone()
    assert change_id is not None
    return int(change_id)


async def publish_changes(conn: AsyncConnection[Any], *, changes: Sequence[Change]) -> None:
    """Record several changes in one statement, in order (the ingest's hot path)."""
    if not changes:
        return
    async with amapped_errors():
        await conn.execute(
            INSERT_MANY,
            {
                "changes": json.dumps(
                    [{"kind": k, "enterprise_id": e, "payload": p} for k, e, p in changes],
                    ensure_ascii=False,
                    default=str,
                )
            },
        )


async def changes_since(
    conn: AsyncConnection[Any], *, after: int, limit: int = 500
) -> list[LiveChange]:
    """Changes with id > after, oldest first."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(LiveChange)) as cur:
        await cur.execute(SINCE, {"after": after, "limit": limit})
        return await cur.fetchall()


async def changes_by_ids(conn: AsyncConnection[Any], *, ids: list[int]) -> list[LiveChange]:
    """The changes with these ids (committed ones only), oldest first."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(LiveChange)) as cur:
        await cur.execute(BY_IDS, {"ids": ids})
        return await cur.fetchall()


async def latest_id(conn: AsyncConnection[Any]) -> int:
    """The id of the newest change (0 when none)."""
    async with conn.cursor(row_factory=scalar_row) as cur:
        await cur.execute(LATEST_ID)
        latest = await cur.fetchone()
    return int(latest) if latest is not None else 0
