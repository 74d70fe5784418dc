"""One LISTEN connection per process fanning the change feed out to WebSocket subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from domain.users import Principal, Role
from storage import live
from storage.live import LiveChange

log = logging.getLogger(__name__)

QUEUE_SIZE = 2000
BATCH_WAIT_S = 0.01
KEEPALIVE_S = 15.0
BACKOFF_S = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


def visible_to(principal: Principal, change: LiveChange) -> bool:
    """Staff see every change; an enterprise account only changes of its own enterprise."""
    if principal.role is Role.ENTERPRISE:
        return change.enterprise_id is not None and change.enterprise_id == principal.enterprise_id
    return True


@dataclass(eq=False)
class Subscriber:
    """One connected client: its principal, optional filters and a bounded queue."""

    principal: Principal
    kinds: frozenset[str] = frozenset()
    enterprise_id: str | None = None
    queue: asyncio.Queue[LiveChange | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE)
    )
    overflowed: bool = False

    def wants(self, change: LiveChange) -> bool:
        """Whether this client may and wants to see the change."""
        if not visible_to(self.principal, change):
            return False
        if self.kinds and change.kind not in self.kinds:
            return False
        return self.enterprise_id is None or change.enterprise_id == self.enterprise_id

    def offer(self, change: LiveChange) -> None:
        """Queue the change; a client that falls QUEUE_SIZE behind is told to resume instead."""
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:
            self.overflowed = True
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.get_nowait()
                self.queue.put_nowait(None)  # sentinel: close, client resumes with after=


class LiveHub:
    """Listens on `safewatch_live` (reconnecting with backoff) and fans changes out."""

    def __init__(
        self,
        database_url: str,
        pool: AsyncConnectionPool,
        *,
        connect: Callable[..., Any] | None = None,
    ) -> None:
        self._url = database_url
        self._pool = pool
        self._connect = connect or psycopg.AsyncConnection.connect
        self._subscribers: set[Subscriber] = set()
        self._ids: asyncio.Queue[int] = asyncio.Queue()
        self.connected = asyncio.Event()
        self._listeners: list[Callable[[LiveChange | None], None]] = []
        self.reconnects = 0
        self.last_id = 0
        self._started = False

    def subscribe(self, subscriber: Subscriber) -> None:
        """Start delivering changes to `subscriber`."""
        self._subscribers.add(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Stop delivering to `subscriber`."""
        self._subscribers.discard(subscriber)

    def add_listener(self, listener: Callable[[LiveChange | None], None]) -> None:
        """Call `listener(change)` for every change, and `listener(None)` when changes may have
        been missed (the LISTEN connection was lost): caches use this to stay correct."""
        self._listeners.append(listener)

    def _tell(self, change: LiveChange | None) -> None:
        for listener in self._listeners:
            try:
                listener(change)
            except Exception:  # a listener must never stop live push
                log.exception("live: listener failed")

    @property
    def subscribers(self) -> int:
        """How many clients are connected to this process."""
        return len(self._subscribers)

    async def run(self) -> None:
        """Listen and dispatch until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._listen_forever())
            group.create_task(self._dispatch_forever())

    async def _listen_forever(self) -> None:
        attempt = 0
        while True:
            try:
                conn = await self._connect(self._url, autocommit=True)
            except (psycopg.Error, OSError) as exc:
                delay = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
                log.warning("live: cannot connect to listen (%s); retry in %.1f s", exc, delay)
                attempt += 1
                await asyncio.sleep(delay)
                continue
            try:
                async with conn:
                    await conn.execute(live.LISTEN)
                    if attempt or self.reconnects:
                        self.reconnects += 1
                        log.info("live: listening again (reconnect %d)", self.reconnects)
                    attempt = 0
                    await self._catch_up()
                    self.connected.set()
                    while True:
                        async for note in conn.notifies(timeout=KEEPALIVE_S):
                            with contextlib.suppress(ValueError):
                                self._ids.put_nowait(int(note.payload))
                        await conn.execute(live.KEEPALIVE)
            except Exception as exc:  # any failure: reconnect; live push must not die
                self.connected.clear()
                self._tell(None)
                delay = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
                log.warning("live: listen connection lost (%r); reconnect in %.1f s", exc, delay)
                attempt += 1
                await asyncio.sleep(delay)

    async def _catch_up(self) -> None:
        """After (re)connecting, deliver what was committed while nobody listened."""
        async with self._pool.connection() as conn:
            if not self._started:
                self._started = True
                self.last_id = max(self.last_id, await live.latest_id(conn))
                return
            while True:
                changes = await live.changes_since(conn, after=self.last_id)
                if not changes:
                    return
                self._fan_out(changes)

    async def _dispatch_forever(self) -> None:
        while True:
            ids = [await self._ids.get()]
            await asyncio.sleep(BATCH_WAIT_S)  # let a burst of notifications gather
            while not self._ids.empty():
                ids.append(self._ids.get_nowait())
            try:
                async with self._pool.connection() as conn:
                    changes = await live.changes_by_ids(conn, ids=sorted(set(ids)))
            except Exception:  # a failed fetch must not stop live push; clients resume by id
                log.exception("live: could not read %d notified change(s)", len(ids))
                continue
            self._fan_out(changes)

    def _fan_out(self, changes: list[LiveChange]) -> None:
        for change in changes:
            self.last_id = max(self.last_id, change.id)
            self._tell(change)
            for sub in list(self._subscribers):
                if sub.wants(change):
                    sub.offer(change)
