"""The by-name row factories of storage/rows.py match fields to columns by name, whatever the
column order, and refuse a query whose columns are not exactly the fields."""

from __future__ import annotations

from typing import NamedTuple

import psycopg
import pytest

from storage.rows import fetch_value, fetch_values, list_row, named_row


class Pair(NamedTuple):
    enterprise_id: str
    n: int


async def test_named_row_matches_columns_by_name(db_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(db_url) as conn:
        async with conn.cursor(row_factory=named_row(Pair)) as cur:
            await cur.execute("SELECT 'E1' AS enterprise_id, 7 AS n")
            assert await cur.fetchone() == Pair(enterprise_id="E1", n=7)
            await cur.execute("SELECT 8 AS n, 'E2' AS enterprise_id")  # the other order
            assert await cur.fetchall() == [Pair(enterprise_id="E2", n=8)]
            with pytest.raises(TypeError, match="Pair has fields"):
                await cur.execute("SELECT 'E3' AS enterprise_id, 9 AS count")


async def test_list_row_orders_values_as_the_fields(db_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(db_url) as conn:
        async with conn.cursor(row_factory=list_row(("code", "n", "on"))) as cur:
            await cur.execute("SELECT 3 AS n, '2026-01-02' AS on, 'C' AS code")
            assert await cur.fetchall() == [["C", 3, "2026-01-02"]]
            with pytest.raises(TypeError, match="the query returns"):
                await cur.execute("SELECT 'C' AS code, 3 AS n")


async def test_fetch_value_and_values(db_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(db_url) as conn:
        assert await fetch_value(conn, statement="SELECT 5 AS n") == 5
        assert await fetch_value(conn, statement="SELECT 1 AS n WHERE false") is None
        got = await fetch_values(conn, statement="SELECT g AS n FROM generate_series(1, 3) g")
        assert got == [1, 2, 3]
