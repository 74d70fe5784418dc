"""Rows read by column name: psycopg's `dict_row` for queries too small for a dataclass,
`scalar_row` for queries of one column, and `named_row` (NamedTuples matched to the columns by
name) where rows are many and per-row cost counts (the ingest's hot path)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, LiteralString, NamedTuple, TypeVar

from psycopg import AsyncConnection
from psycopg.rows import BaseRowFactory, RowMaker, dict_row, no_result, scalar_row

from storage.errors import amapped_errors

if TYPE_CHECKING:
    from psycopg._cursor_base import BaseCursor  # psycopg's own row factories take this type

NT = TypeVar("NT", bound=NamedTuple)


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


async def fetch_value(
    conn: AsyncConnection[Any],
    *,
    statement: LiteralString,
    params: Mapping[str, Any] | None = None,
) -> Any:
    """The single column of the first row of `statement`, or None when it returns no row."""
    async with amapped_errors(), conn.cursor(row_factory=scalar_row) as cur:
        await cur.execute(statement, params)
        return await cur.fetchone()


async def fetch_values(
    conn: AsyncConnection[Any],
    *,
    statement: LiteralString,
    params: Mapping[str, Any] | None = None,
) -> list[Any]:
    """The single column of every row of `statement`."""
    async with amapped_errors(), conn.cursor(row_factory=scalar_row) as cur:
        await cur.execute(statement, params)
        return await cur.fetchall()


def _positions(cursor: BaseCursor[Any, Any], fields: Sequence[str], what: str) -> list[int] | None:
    """Where each of `fields` is among the result's columns (None when they are in that order);
    raises when the columns are not exactly `fields`."""
    names = [column.name for column in cursor.description or ()]
    if sorted(names) != sorted(fields):
        raise TypeError(f"{what} has fields {tuple(fields)}, the query returns {names}")
    if names == list(fields):
        return None
    return [names.index(f) for f in fields]


def named_row(cls: type[NT]) -> BaseRowFactory[NT]:
    """Rows as the NamedTuple `cls`, its fields matched to the query's columns by name.

    The names are matched once per result (a missing or unexpected column raises); each row then
    costs one tuple, about as cheap as a plain tuple row (`class_row` builds a dict and calls the
    class per row). Read the fields by name (`row.enterprise_id`), never by position or unpacking.
    """

    def factory(cursor: BaseCursor[Any, Any]) -> RowMaker[NT]:
        if cursor.description is None:
            return no_result
        positions = _positions(cursor, cls._fields, cls.__name__)
        make = cls._make
        if positions is None:
            return make
        pick = itemgetter(*positions)
        return lambda values: make(pick(values))

    return factory


def list_row(fields: Sequence[str]) -> BaseRowFactory[list[Any]]:
    """Rows as lists of the values of `fields` in that order, matched to the columns by name
    once per result (for documents whose rows are lists, such as a draw's frozen snapshot)."""

    def factory(cursor: BaseCursor[Any, Any]) -> RowMaker[list[Any]]:
        if cursor.description is None:
            return no_result
        positions = _positions(cursor, fields, "the row")
        if positions is None:
            return list
        pick = itemgetter(*positions)
        return lambda values: list(pick(values))

    return factory
