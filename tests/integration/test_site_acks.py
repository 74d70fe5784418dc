"""A rectification order acknowledged by its site over MQTT (services.site_acks, as the ingest
calls it) and by its portal at the same time: the order is locked, so whichever comes second
changes nothing and writes no audit record; an ack after the order is closed marks the downlink
and leaves the order closed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import AsyncConnectionPool

from api.app import create_app
from config.settings import Settings
from domain.clock import utcnow
from domain.users import Principal, Role
from services import rectification, site_acks
from services.changes import Actor
from tests.integration.test_rectification_loop import FIRST, _setup

WAIT_S = 10.0


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def _order(client: TestClient, db_url: str) -> tuple[int, str, str, Principal]:
    """An issued order: its id, enterprise, notice ref and the enterprise's portal account."""
    iid, code, team, _, _ = _setup(client, db_url)
    assert client.post(f"/api/v1/inspections/{iid}/findings", json=FIRST, headers=team).is_success
    res = client.post(f"/api/v1/inspections/{iid}/rectification", headers=team)
    assert res.status_code == 201, res.text
    order_id = int(res.json()["id"])
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT d.ref, u.id, u.username FROM rectification_orders o"
            " JOIN downlinks d ON d.id = o.notice_id"
            " JOIN users u ON u.enterprise_id = o.enterprise_id AND u.role = 'enterprise'"
            " WHERE o.id = %s",
            (order_id,),
        ).fetchone()
    assert row is not None
    return order_id, code, str(row[0]), Principal(int(row[1]), str(row[2]), Role.ENTERPRISE, code)


async def _acks(pool: AsyncConnectionPool, order_id: int) -> list[Any]:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT username, role FROM audit_log WHERE target = %s"
            " AND action = 'rectification.acknowledge'",
            (f"rectification:{order_id}",),
        )
        return list(await cur.fetchall())


async def _blocked(pool: AsyncConnectionPool, pid: int) -> None:
    """Wait until backend `pid` waits on a lock."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while asyncio.get_running_loop().time() < deadline:
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
            )
            row = await cur.fetchone()
        if row is not None and row[0] == "Lock":
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"backend {pid} never waited on the order's lock")


async def test_site_and_portal_acknowledge_at_once_one_audit(
    pool: AsyncConnectionPool, client: TestClient, db_url: str
) -> None:
    order_id, code, ref, principal = _order(client, db_url)
    async with pool.connection() as site_conn, pool.connection() as portal_conn:
        async with site_conn.transaction():
            found = await site_acks.acknowledge(
                site_conn, ent=code, ref=ref, at=utcnow(), by="安全总监 李某"
            )
            assert found is not None
            assert found.state == "acknowledged"
            pid = portal_conn.info.backend_pid

            async def portal() -> str:
                async with portal_conn.transaction():
                    order = await rectification.acknowledge(
                        portal_conn, order_id=order_id, actor=Actor(principal)
                    )
                return order.state

            task = asyncio.create_task(portal())
            await _blocked(pool, pid)  # the portal waits on the order's lock
        assert await asyncio.wait_for(task, WAIT_S) == "acknowledged"
    assert await _acks(pool, order_id) == [(code, "site")]


async def test_an_ack_after_the_order_is_closed(
    pool: AsyncConnectionPool, client: TestClient, db_url: str
) -> None:
    order_id, code, ref, _ = _order(client, db_url)
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE rectification_orders SET state = 'closed', closed_at = now() WHERE id = %s",
            (order_id,),
        )
        await conn.commit()
        found = await site_acks.acknowledge(conn, ent=code, ref=ref, at=utcnow(), by=None)
        await conn.commit()
    assert found is not None
    assert found.state == "acknowledged"  # the downlink is
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT state, acknowledged_at FROM rectification_orders WHERE id = %s", (order_id,)
        )
        assert await cur.fetchone() == ("closed", None)  # the closed order is not
    assert await _acks(pool, order_id) == []
