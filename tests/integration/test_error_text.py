"""API errors never carry PostgreSQL's text: real database refusals become fixed sentences."""

from __future__ import annotations

from typing import Any

import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.errors import STATUS_BY_ERROR
from domain.errors import Conflict, Immutable, NotFound, SafewatchError, ValidationFailed
from storage.errors import amapped_errors

SETUP = """
CREATE TEMP TABLE t_parent (id int PRIMARY KEY, secret_col text CHECK (secret_col <> 'x'));
CREATE TEMP TABLE t_child (id int REFERENCES t_parent (id));
INSERT INTO t_parent VALUES (1, '13800138000');
"""
AUDIT = "INSERT INTO audit_log (username, role, action, target) VALUES ('u', 'admin', 'x', 't')"
CASES = [
    ("INSERT INTO t_parent VALUES (1, '13800138000')", Conflict),
    ("INSERT INTO t_child VALUES (42)", NotFound),
    ("INSERT INTO t_parent VALUES (2, 'x')", ValidationFailed),
    ("INSERT INTO t_parent VALUES (NULL, 'y')", ValidationFailed),
    ("SELECT '9999-12-31T23:59:59-23:59'::timestamptz", ValidationFailed),
    ("SELECT 1.8e308::float8", ValidationFailed),
    (
        "INSERT INTO audit_log (username, role, action, target) VALUES ('u', 'admin', 'x', 't')"
        "; UPDATE audit_log SET action = 'y'",
        Immutable,
    ),
]
#: Fragments of PostgreSQL's wording and of the schema that must never reach a caller.
LEAKS = (
    *("t_parent", "t_child", "secret_col", "13800138000", "violates", "Key (", "duplicate"),
    *("out of range", "pkey", "fkey", "check", "audit_log", "syntax", "relation", "column"),
)


async def _run(conn: AsyncConnection[Any], statements: str) -> None:
    async with amapped_errors():
        for part in statements.split("; "):
            await conn.execute(part)


@pytest.mark.parametrize(("statement", "expected"), CASES)
async def test_database_refusals_carry_no_database_text(
    pool: AsyncConnectionPool, statement: str, expected: type[SafewatchError]
) -> None:
    async with pool.connection() as conn:
        await conn.execute(SETUP)
        with pytest.raises(SafewatchError) as err:
            await _run(conn, statement)
    assert isinstance(err.value, expected), repr(err.value)
    shown = f"{err.value.message} {err.value.details!r}".lower()
    assert not [leak for leak in LEAKS if leak.lower() in shown], shown
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.value.message)  # zh-CN first
    assert type(err.value) in STATUS_BY_ERROR
