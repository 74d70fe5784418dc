"""The board query stays fast after many executions (no generic plan from a prepared statement)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from psycopg_pool import AsyncConnectionPool

from storage import board
from tests.integration.apiclient import seed


async def test_board_query_is_never_prepared(pool: AsyncConnectionPool, db_url: str) -> None:
    seed(db_url, 30)
    since = datetime.now(UTC) - timedelta(minutes=2)
    async with pool.connection() as conn:
        for _ in range(12):  # psycopg prepares after 5 runs, PostgreSQL goes generic after 5 more
            started = time.perf_counter()
            rows = await board.rows_json(conn, online_since=since)
        assert rows.startswith("[[")
        prepared = await (
            await conn.execute("SELECT count(*) FROM pg_prepared_statements")
        ).fetchone()
        assert prepared == (0,)
        assert time.perf_counter() - started < 1.0
