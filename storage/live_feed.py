"""Reading the change feed by notified ids (live push) and the LISTEN connection's statements."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

from storage.errors import amapped_errors
from storage.live import LiveChange

BY_IDS = """
SELECT id, ts, kind, enterprise_id, payload FROM live_changes
 WHERE id = ANY(%(ids)s) ORDER BY id
"""
LISTEN = "LISTEN safewatch_live"  # storage.live.CHANNEL
KEEPALIVE = "SELECT 1"


async def changes_by_ids(conn: AsyncConnection[Any], *, ids: list[int]) -> list[LiveChange]:
    """The changes with these ids (committed ones only), oldest first."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(LiveChange)) as cur:
        await cur.execute(BY_IDS, {"ids": ids})
        return await cur.fetchall()
