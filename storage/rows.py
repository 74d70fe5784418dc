"""Rows read by column name (psycopg's `dict_row`), for queries too small for a dataclass."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, LiteralString

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from storage.errors import amapped_errors


async def fetch_one(
    conn: AsyncConnection[Any],
    *,
    statement: LiteralString,
    params: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The first row of `statement` as {column: value}, or None."""
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(statement, params)
        return await cur.fetchone()


async def fetch_all(
    conn: AsyncConnection[Any],
    *,
    statement: LiteralString,
    params: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every row of `statement` as {column: value}."""
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(statement, params)
        return await cur.fetchall()
