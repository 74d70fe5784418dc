"""WS /api/v1/live: authenticated live push of the change feed, resumable by last-seen id."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import jwt
from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect
from prometheus_client import Gauge

from api.deps import account_check
from api.live_cache import LiveCache
from api.live_hub import LiveHub, Subscriber
from api.security import read_token
from config.settings import Settings
from domain.clock import utcnow
from domain.credit_code import credit_code_problem
from domain.errors import Unauthorized
from domain.i18n import msg
from domain.users import Principal
from storage import live
from storage.live import LiveChange

log = logging.getLogger(__name__)

router = APIRouter(tags=["live"])

AUTH_TIMEOUT_S = 5.0
PING_S = 25.0
MAX_REPLAY = 20_000
#: Close codes: the client must sign in again / may not see this / sent bad parameters.
CLOSE_UNAUTHORIZED, CLOSE_FORBIDDEN, CLOSE_BAD_REQUEST, CLOSE_TOO_SLOW = 4401, 4403, 4400, 4408

CLIENTS = Gauge("safewatch_live_clients", "WebSocket clients connected to this process")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the process's single LISTEN connection and stop it on shutdown."""
    settings: Settings = app.state.settings
    hub = LiveHub(settings.database_url, app.state.pool)
    app.state.live_hub = hub
    app.state.live_cache = LiveCache(hub)
    task = asyncio.create_task(hub.run(), name="live-hub")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _reason(text: str) -> str:
    """A close reason within WebSocket's 123-byte limit (zh-CN text is 3 bytes a character)."""
    return text.encode()[:123].decode("utf-8", "ignore")


def message(change: LiveChange) -> dict[str, Any]:
    """The JSON a client receives for one change."""
    return {
        "type": "change",
        "id": change.id,
        "ts": change.ts.isoformat(),
        "kind": change.kind,
        "enterprise_id": change.enterprise_id,
        "payload": change.payload,
    }


def _expiry(token: str) -> float:
    claims = jwt.decode(token, options={"verify_signature": False})
    return float(claims.get("exp", 0))


async def _principal(ws: WebSocket, token: str | None) -> tuple[Principal, float]:
    """Read the token (query parameter, or a first message {"type":"auth","token":…})."""
    settings: Settings = ws.app.state.settings
    if not token:
        try:
            first = await asyncio.wait_for(ws.receive_json(), AUTH_TIMEOUT_S)
        except (TimeoutError, ValueError, KeyError) as exc:
            raise Unauthorized(msg("live.auth_first")) from exc
        token = first.get("token") if isinstance(first, dict) else None
        if not isinstance(token, str):
            raise Unauthorized(msg("live.auth_first"))
    principal = read_token(token, secret=settings.secret_key)
    await account_check(ws).ensure_current(ws.app.state.pool, principal)
    return principal, _expiry(token)


@router.websocket("/api/v1/live")
async def live_socket(
    ws: WebSocket,
    token: str | None = None,
    after: int | None = None,
    kinds: str | None = None,
    ent: str | None = None,
) -> None:
    """Push changes: `after` resumes from the last id seen, `kinds`/`ent` narrow the stream."""
    await ws.accept()
    try:
        principal, expires = await _principal(ws, token)
    except Unauthorized as exc:
        await ws.close(CLOSE_UNAUTHORIZED, _reason(exc.message))
        return
    except WebSocketDisconnect:
        return
    if ent is not None and credit_code_problem(ent):
        await ws.close(CLOSE_BAD_REQUEST, "ent is not a valid credit code")
        return
    if ent is not None and not principal.may_see_enterprise(ent):
        await ws.close(CLOSE_FORBIDDEN, "an enterprise account may only follow itself")
        return
    if after is not None and not 0 <= after < 2**62:
        await ws.close(CLOSE_BAD_REQUEST, "after must be a change id")
        return
    hub: LiveHub = ws.app.state.live_hub
    wanted = frozenset(k for k in (kinds or "").split(",") if k)
    sub = Subscriber(principal, wanted, ent)
    hub.subscribe(sub)
    CLIENTS.inc()
    try:
        await _serve(ws, hub, sub, after, expires)
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(sub)
        CLIENTS.dec()


async def _serve(
    ws: WebSocket, hub: LiveHub, sub: Subscriber, after: int | None, expires: float
) -> None:
    replayed: set[int] = set()
    async with ws.app.state.pool.connection() as conn:
        latest = await live.latest_id(conn)
        await ws.send_json({"type": "hello", "latest_id": latest, "role": sub.principal.role})
        cursor = after if after is not None else latest
        if latest - cursor > MAX_REPLAY:
            await ws.send_json({"type": "reset", "reason": "too far behind; reload the page data"})
            cursor = latest
        while True:
            batch = await live.changes_since(conn, after=cursor, limit=500)
            if not batch:
                break
            for change in batch:
                cursor = change.id
                if sub.wants(change):
                    await ws.send_json(message(change))
                    replayed.add(change.id)
    await ws.send_json({"type": "synced", "last_id": cursor})
    state = {"expires": expires}
    sender = asyncio.create_task(_send_loop(ws, sub, replayed, after or 0))
    receiver = asyncio.create_task(_receive_loop(ws, sub.principal, state))
    watcher = asyncio.create_task(_account_loop(ws, sub.principal))
    done, pending = await asyncio.wait(
        {sender, receiver, watcher}, return_when=asyncio.FIRST_COMPLETED, timeout=None
    )
    for task in pending:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await task
    for task in done:
        exc = task.exception()
        if exc is not None and not isinstance(exc, WebSocketDisconnect):
            raise exc


async def _send_loop(ws: WebSocket, sub: Subscriber, replayed: set[int], floor: int) -> None:
    while True:
        try:
            change = await asyncio.wait_for(sub.queue.get(), PING_S)
        except TimeoutError:
            await ws.send_json({"type": "ping"})
            continue
        if change is None:
            await ws.close(CLOSE_TOO_SLOW, "too far behind; reconnect with after=<last id>")
            return
        if change.id <= floor or change.id in replayed:
            continue  # the client had it before it connected, or got it while replaying
        await ws.send_json(message(change))


async def _account_loop(ws: WebSocket, principal: Principal) -> None:
    """Re-check the account as often as a bearer token is re-checked; close the socket when the
    account is deactivated, deleted or its role or enterprise changed."""
    check = account_check(ws)
    while True:
        await asyncio.sleep(check.ttl_s)  # a period, not a synchronisation
        try:
            await check.ensure_current(ws.app.state.pool, principal)
        except Unauthorized as exc:
            log.info("live: closing the socket of user %d: %s", principal.user_id, exc.message)
            await ws.close(CLOSE_UNAUTHORIZED, _reason(exc.message))
            return


async def _receive_loop(ws: WebSocket, principal: Principal, state: dict[str, float]) -> None:
    """Answer pings and accept a fresh token (sent before the old one expires)."""
    settings: Settings = ws.app.state.settings
    while True:
        remaining = state["expires"] - utcnow().timestamp()
        try:
            msg = await asyncio.wait_for(ws.receive_json(), max(0.1, remaining))
        except TimeoutError:
            await ws.close(CLOSE_UNAUTHORIZED, "access token has expired")
            return
        except ValueError:
            continue  # not JSON: ignored
        if not isinstance(msg, dict):
            continue
        if msg.get("type") == "ping":
            await ws.send_json({"type": "pong"})
        elif msg.get("type") == "auth" and isinstance(msg.get("token"), str):
            try:
                fresh = read_token(msg["token"], secret=settings.secret_key)
            except Unauthorized:
                continue
            if fresh.user_id == principal.user_id and fresh.role == principal.role:
                state["expires"] = _expiry(msg["token"])
