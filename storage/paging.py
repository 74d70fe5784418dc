"""One reader for paged list queries: rows by name into a dataclass, plus the total count."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from storage.errors import amapped_errors

Row = TypeVar("Row")


async def fetch_page(
    conn: AsyncConnection[Any],
    *,
    statement: str,
    params: Mapping[str, Any],
    row: Callable[..., Row],
) -> tuple[list[Row], int]:
    """Run a list query whose last column is `count(*) OVER () AS total`; its rows built by
    column name with `row(**columns)`, and the total (0 when the page is empty)."""
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(statement, params)
        rows = await cur.fetchall()
    total = int(rows[0]["total"]) if rows else 0
    return [row(**{k: v for k, v in r.items() if k != "total"}) for r in rows], total
