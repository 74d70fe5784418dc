"""WS /api/v1/live: authenticated, role-filtered, resumable, survives a lost LISTEN connection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from api.app import create_app
from config.settings import Settings
from storage import live
from tests.conftest import TEST_ADMIN_PASSWORD
from tests.integration.apiclient import PASSWORD, add_user, seed
from tests.integration.liveserver import ServerThread

A = "91330102100000000H"


@pytest.fixture
def server(settings: Settings) -> Iterator[ServerThread]:
    srv = ServerThread(create_app(settings)).start()
    yield srv
    srv.stop()


async def _token(server: ServerThread, username: str, password: str) -> str:
    async with httpx.AsyncClient(base_url=server.url) as c:
        res = await c.post("/api/v1/auth/token", data={"username": username, "password": password})
        assert res.status_code == 200, res.text
        return str(res.json()["access_token"])


def _ws_url(server: ServerThread, query: str) -> str:
    return server.url.replace("http", "ws") + "/api/v1/live" + query


async def _next(ws: ClientConnection, kind: str = "change", wait: float = 2.0) -> dict[str, Any]:
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), wait))
        if msg["type"] == kind:
            return dict(msg)


async def _publish(pool: AsyncConnectionPool, ent: str | None, **payload: Any) -> int:
    async with pool.connection() as conn:
        return await live.publish_change(conn, kind="alarm", enterprise_id=ent, payload=payload)


@pytest.fixture
async def admin_ws(server: ServerThread) -> AsyncIterator[ClientConnection]:
    token = await _token(server, "admin", TEST_ADMIN_PASSWORD)
    async with connect(_ws_url(server, f"?token={token}")) as ws:
        await _next(ws, "synced")
        yield ws


async def test_a_committed_change_arrives_within_a_second(
    admin_ws: ClientConnection, pool: AsyncConnectionPool
) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    change_id = await _publish(pool, A, n=1)
    msg = await _next(admin_ws, wait=1.0)
    assert loop.time() - start < 1.0
    assert msg["id"] == change_id
    assert msg["kind"] == "alarm"
    assert msg["enterprise_id"] == A
    assert msg["payload"] == {"n": 1}


async def test_enterprise_account_gets_only_its_own_enterprise(
    server: ServerThread, pool: AsyncConnectionPool, db_url: str
) -> None:
    mine, other = seed(db_url, 2)
    add_user(db_url, "ent", "enterprise", mine)
    token = await _token(server, "ent", PASSWORD)
    async with connect(_ws_url(server, f"?token={token}")) as ws:
        await _next(ws, "synced")
        await _publish(pool, other, secret=True)
        await _publish(pool, None, everyone=True)
        own = await _publish(pool, mine, own=True)
        msg = await _next(ws)
        assert msg["id"] == own
    async with connect(_ws_url(server, f"?token={token}&ent={other}")) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await _next(ws)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4403


async def test_resume_after_a_reconnect_misses_nothing(
    server: ServerThread, pool: AsyncConnectionPool
) -> None:
    token = await _token(server, "admin", TEST_ADMIN_PASSWORD)
    first = await _publish(pool, A, n=1)
    second = await _publish(pool, A, n=2)
    third = await _publish(pool, "91330102100000000H", n=3)
    async with connect(_ws_url(server, f"?token={token}&after={first}")) as ws:
        got = [await _next(ws), await _next(ws)]
        assert [m["id"] for m in got] == [second, third]
        synced = await _next(ws, "synced")
        assert synced["last_id"] == third
        fourth = await _publish(pool, A, n=4)
        assert (await _next(ws))["id"] == fourth


async def test_kind_filter_and_first_message_authentication(
    server: ServerThread, pool: AsyncConnectionPool
) -> None:
    token = await _token(server, "admin", TEST_ADMIN_PASSWORD)
    async with connect(_ws_url(server, "?kinds=status")) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        await _next(ws, "synced")
        await _publish(pool, A)  # an alarm: filtered out
        async with pool.connection() as conn:
            status = await live.publish_change(conn, kind="status", enterprise_id=A, payload={})
        assert (await _next(ws))["id"] == status
        await ws.send(json.dumps({"type": "ping"}))
        await _next(ws, "pong")


@pytest.mark.parametrize("query", ["", "?token=forged.token.value"])
async def test_without_a_valid_token_the_socket_is_closed_4401(
    server: ServerThread, query: str
) -> None:
    async with connect(_ws_url(server, query)) as ws:
        if not query:
            await ws.send(json.dumps({"type": "hello"}))
        with pytest.raises(ConnectionClosed) as closed:
            await _next(ws, wait=7)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_deactivated_account_cannot_connect(server: ServerThread, db_url: str) -> None:
    add_user(db_url, "gone", "duty")
    token = await _token(server, "gone", PASSWORD)
    with psycopg.connect(db_url) as conn:
        conn.execute("UPDATE users SET active = false WHERE username = 'gone'")
    async with connect(_ws_url(server, f"?token={token}")) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await _next(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_lost_listen_connection_reconnects_and_catches_up(
    server: ServerThread, admin_ws: ClientConnection, pool: AsyncConnectionPool, db_url: str
) -> None:
    hub = server.server.config.app.state.live_hub  # type: ignore[attr-defined]
    with psycopg.connect(db_url, autocommit=True) as conn:
        killed = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN%%'"
            "    OR (datname = current_database() AND query = 'SELECT 1'"
            "        AND pid <> pg_backend_pid() AND application_name = '')"
        ).fetchall()
    assert killed
    missed = await _publish(pool, A, during="outage")
    msg = await _next(admin_ws, wait=5.0)
    assert msg["id"] == missed
    assert hub.reconnects >= 1


async def test_refresh_gives_a_new_token_while_active(server: ServerThread) -> None:
    token = await _token(server, "admin", TEST_ADMIN_PASSWORD)
    async with httpx.AsyncClient(base_url=server.url) as c:
        res = await c.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {token}"})
        assert res.status_code == 200
        assert res.json()["access_token"]
        assert (await c.post("/api/v1/auth/refresh")).status_code == 401


async def _stream_until_closed(
    ws: ClientConnection, pool: AsyncConnectionPool, wait: float
) -> ConnectionClosed:
    """Publish and receive changes until the server closes the socket."""
    try:
        while True:
            await _publish(pool, A, n=2)
            await _next(ws, wait=wait)
    except ConnectionClosed as closed:
        return closed


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE users SET active = false WHERE username = 'watcher'",
        "UPDATE users SET role = 'inspector' WHERE username = 'watcher'",
        "DELETE FROM users WHERE username = 'watcher'",
    ],
    ids=["deactivated", "role-changed", "deleted"],
)
async def test_an_open_socket_closes_when_its_account_changes(
    server: ServerThread, db_url: str, pool: AsyncConnectionPool, change: str
) -> None:
    add_user(db_url, "watcher", "duty")
    token = await _token(server, "watcher", PASSWORD)
    async with connect(_ws_url(server, f"?token={token}")) as ws:
        await _next(ws, "synced")
        before = await _publish(pool, A, n=1)
        assert (await _next(ws))["id"] == before  # streaming while the account is as it was
        with psycopg.connect(db_url) as conn:
            conn.execute(change)  # behind the API's back: no cache is dropped
        check = server.server.config.app.state.account_check  # type: ignore[attr-defined]
        started = asyncio.get_running_loop().time()
        closed = await _stream_until_closed(ws, pool, wait=check.ttl_s * 3 + 5)
        waited = asyncio.get_running_loop().time() - started
    assert closed.rcvd is not None
    assert closed.rcvd.code == 4401
    assert waited < check.ttl_s * 2 + 5
