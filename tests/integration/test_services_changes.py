"""services.changes: an audited action and its live changes commit or vanish together."""

from __future__ import annotations

import pytest
from psycopg_pool import AsyncConnectionPool

from domain.users import Principal, Role
from services import changes
from storage import audit, live

WHO = changes.Actor(Principal(1, "admin", Role.ADMIN), client_ip="127.0.0.1")


async def test_record_writes_one_audit_entry_and_its_live_changes(
    pool: AsyncConnectionPool,
) -> None:
    async with pool.connection() as conn:
        before = await live.latest_id(conn)
        audit_id = await changes.record(
            conn,
            actor=WHO,
            audit_entry=changes.Audit("thing.change", "thing:1", {"a": 1}, {"a": 2}),
            changes=[("thing", "E1", {"id": 1}), ("status", "E1", {"mode": "normal"})],
        )
    async with pool.connection() as conn:
        entries = await audit.query(conn, target="thing:1")
        fresh = await live.changes_since(conn, after=before)
    assert [(e.id, e.username, e.client_ip, e.after) for e in entries] == [
        (audit_id, "admin", "127.0.0.1", {"a": 2})
    ]
    assert [(c.kind, c.enterprise_id, c.payload) for c in fresh] == [
        ("thing", "E1", {"id": 1}),
        ("status", "E1", {"mode": "normal"}),
    ]


async def test_a_rolled_back_use_case_leaves_neither_record(pool: AsyncConnectionPool) -> None:
    class Boom(Exception):
        pass

    async with pool.connection() as conn:
        before = await live.latest_id(conn)

    async def use_case_that_fails_after_recording() -> None:
        async with pool.connection() as conn:
            await changes.record(
                conn,
                actor=changes.SYSTEM,
                audit_entry=changes.Audit("thing.change", "thing:2"),
                changes=[("thing", None, {"id": 2})],
            )
            raise Boom

    with pytest.raises(Boom):
        await use_case_that_fails_after_recording()
    async with pool.connection() as conn:
        assert await audit.query(conn, target="thing:2") == []
        assert await live.changes_since(conn, after=before) == []


async def test_an_autocommit_connection_still_writes_both_in_one_transaction(
    pool: AsyncConnectionPool,
) -> None:
    async with pool.connection() as conn:
        await conn.set_autocommit(True)
        try:
            with pytest.raises(ValueError, match="live change"):
                await changes.record(
                    conn, actor=changes.SYSTEM, audit_entry=changes.Audit("x", "y"), changes=[]
                )
            await changes.record(
                conn,
                actor=changes.SYSTEM,
                audit_entry=changes.Audit("thing.change", "thing:3"),
                changes=[("thing", None, {"id": 3})],
            )
        finally:
            await conn.set_autocommit(False)
        assert [e.username for e in await audit.query(conn, target="thing:3")] == ["system"]


async def test_announce_writes_many_changes_in_order_without_audit(
    pool: AsyncConnectionPool,
) -> None:
    async with pool.connection() as conn:
        before = await live.latest_id(conn)
        await changes.announce(conn, changes=[("alarm", "E", {"n": n}) for n in range(3)])
        fresh = await live.changes_since(conn, after=before)
        assert [c.payload["n"] for c in fresh] == [0, 1, 2]
        assert await audit.query(conn, since=fresh[0].ts) == []
