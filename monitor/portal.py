"""Reports from the enterprise portal (HTTPS) taken into the ingest's own pipeline.

The API queues each report (storage.portal_reports) and notifies; here the ingest claims them
and stores them exactly as MQTT uplinks of the enterprise's own topic: the same checks, the
same exactly-once event keys (an event id sent over HTTPS and MQTT is stored once), the same
processor, alarms and live changes. The outcome is written back for the portal to show.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import psycopg
from psycopg_pool import AsyncConnectionPool

from domain.clock import utcnow
from monitor.batch import BatchResult
from monitor.parse import Inbound
from monitor.topics import Topics
from storage import portal_reports as store

log = logging.getLogger(__name__)

#: Without a notification the queue is still looked at this often (a missed NOTIFY, a report
#: claimed by an ingest that died).
POLL_S = 2.0
#: A report claimed this long ago and not finished is taken again (its ingest died).
STALE = timedelta(seconds=30)
RETRY_S = 1.0
#: Marks portal messages (no MQTT packet id: nothing to acknowledge to the broker).
PORTAL_GENERATION = -1

StoreBatch = Callable[[list[Inbound], asyncio.Event], Awaitable[BatchResult | None]]


class PortalIntake:
    """Claims queued portal reports and stores them through the ingest's batch path."""

    def __init__(
        self, url: str, pool: AsyncConnectionPool, topics: Topics, store_batch: StoreBatch
    ) -> None:
        """An intake over the ingest's `store_batch` (retrying, bisecting, serialised)."""
        self.url = url
        self.pool = pool
        self.topics = topics
        self.store_batch = store_batch
        self.taken = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Listen for reports until `stop`; any failure is logged and the loop goes on."""
        while not stop.is_set():
            try:
                await self._listen(stop)
            except Exception as exc:  # the intake must outlive database outages
                log.warning("portal intake: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RETRY_S)

    async def _listen(self, stop: asyncio.Event) -> None:
        conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        async with conn:
            await conn.execute(store.LISTEN)
            while not stop.is_set():
                while await self.drain(stop):
                    pass
                # A notification that arrived while draining is still queued on the connection.
                async for _ in conn.notifies(timeout=POLL_S, stop_after=1):
                    pass

    async def drain(self, stop: asyncio.Event) -> int:
        """Store one chunk of queued reports; how many were taken (0: the queue is empty)."""
        async with self.pool.connection() as conn, conn.transaction():
            rows = await store.claim(conn, now=utcnow(), stale=STALE)
        if not rows:
            return 0
        batch = [
            Inbound(
                topic=self.topics.uplink(r.enterprise_id, r.kind),
                payload=bytes(r.payload),
                qos=1,
                mid=0,
                retain=False,
                generation=PORTAL_GENERATION,
                received=time.monotonic(),
            )
            for r in rows
        ]
        result = await self.store_batch(batch, stop)
        if result is None:  # stopping: the reports stay queued and are taken again
            return 0
        refused = {id(r.msg): r for r in result.refused}
        outcomes = []
        for row, m in zip(rows, batch, strict=True):
            r = refused.get(id(m))
            if r is None:
                outcomes.append(store.Outcome(row.id, "stored"))
            else:
                outcomes.append(store.Outcome(row.id, "refused", r.code.value, r.reason))
        async with self.pool.connection() as conn, conn.transaction():
            await store.finish(conn, outcomes=outcomes, now=utcnow())
        self.taken += len(rows)
        log.info("portal: %d reports taken, %d refused", len(rows), len(refused))
        return len(rows)
