"""Locking rows by (enterprise, key) pairs in one statement, in one global order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, LiteralString, TypeVar

from psycopg import AsyncConnection
from psycopg.rows import BaseRowFactory

from storage.errors import amapped_errors

Row = TypeVar("Row")


async def lock_pairs(
    conn: AsyncConnection[Any],
    *,
    statement: LiteralString,
    keys: Sequence[tuple[str, str]],
    row: BaseRowFactory[Row],
) -> list[Row]:
    """The rows `statement` locks for these (enterprise, key) pairs (its parameters: %(ents)b
    and %(keys)b), made by the row factory `row`. Pairs are de-duplicated and sorted, so two
    transactions locking overlapping sets take the locks in the same order and never deadlock."""
    if not keys:
        return []
    uniq = sorted(set(keys))
    params = {"ents": [k[0] for k in uniq], "keys": [k[1] for k in uniq]}
    async with amapped_errors(), conn.cursor(row_factory=row) as cur:
        await cur.execute(statement, params)
        return await cur.fetchall()
