"""The scheduler's leader lock: a session-level advisory lock held on a dedicated connection
(released by PostgreSQL when that connection drops, so another process takes over)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

TRY_LOCK = "SELECT pg_try_advisory_lock(%(key)s) AS held"


async def connect(url: str) -> psycopg.AsyncConnection[Any]:
    """A dedicated autocommit connection to hold the lock on."""
    return await psycopg.AsyncConnection.connect(url, autocommit=True)


async def try_lock(conn: psycopg.AsyncConnection[Any], *, key: int) -> bool:
    """Take the lock if it is free; True while this connection holds it."""
    # Not through amapped_errors: the leader loop retries on psycopg.OperationalError itself.
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(TRY_LOCK, {"key": key})
        row = await cur.fetchone()
    return bool(row and row["held"])
