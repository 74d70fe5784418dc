"""The change feed notifies listeners; the audit log refuses changes."""

from __future__ import annotations

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from domain.errors import Immutable
from domain.users import Principal, Role
from storage import audit, live
from storage.errors import amapped_errors


async def test_change_is_notified_on_commit_and_readable_after_an_id(
    pool: AsyncConnectionPool, db_url: str
) -> None:
    listener = await psycopg.AsyncConnection.connect(db_url, autocommit=True)
    await listener.execute("LISTEN safewatch_live")
    async with pool.connection() as conn:
        first = await live.publish_change(conn, kind="alarm", enterprise_id="E", payload={"a": 1})
    gen = listener.notifies(timeout=5, stop_after=1)
    notes = [n async for n in gen]
    await listener.close()
    assert [n.payload for n in notes] == [str(first)]
    async with pool.connection() as conn:
        second = await live.publish_change(conn, kind="status", enterprise_id=None, payload={})
        changes = await live.changes_since(conn, after=first)
        assert [c.id for c in changes] == [second]
        assert await live.latest_id(conn) == second


async def test_audit_log_is_append_only(pool: AsyncConnectionPool) -> None:
    who = Principal(1, "admin", Role.ADMIN)
    async with pool.connection() as conn:
        entry = await audit.record(
            conn,
            principal=who,
            action="alarm.close",
            target="alarm:1",
            before={"state": "active"},
            after={"state": "closed"},
            client_ip="127.0.0.1",
        )
        rows = await audit.query(conn, target="alarm:1")
        assert [r.id for r in rows] == [entry]
        assert rows[0].after == {"state": "closed"}
    for statement in (
        "UPDATE audit_log SET action = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(Immutable):
            await _execute(pool, statement)


async def _execute(pool: AsyncConnectionPool, statement: str) -> None:
    async with pool.connection() as conn, amapped_errors():
        await conn.execute(statement.encode())
