"""Publishing guidance and notices (QoS 1), retried with a growing delay until acked or expired."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import datetime, timedelta
from typing import Protocol

from psycopg_pool import AsyncConnectionPool

from config.policy_monitoring import MonitoringPolicy
from domain.clock import utcnow
from monitor import metrics
from monitor.topics import Downlink, Topics
from services import downlinks as delivery
from storage import downlinks

log = logging.getLogger(__name__)

TICK_S = 1.0


class Publisher(Protocol):
    """What the publisher needs of an MQTT client."""

    connected: bool

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> bool:
        """Queue a publication."""
        ...


def next_attempt(policy: MonitoringPolicy, attempts_before: int, now: datetime) -> datetime:
    """When to publish again: the first delay doubled per attempt, capped."""
    delay: timedelta = policy.retry_first * (1 << min(attempts_before, 16))
    return now + min(delay, policy.retry_max)


class DownlinkPublisher:
    """Publishes due downlinks every second; several monitors share the work (SKIP LOCKED)."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        client: Publisher,
        topics: Topics,
        policy: MonitoringPolicy,
    ) -> None:
        """A publisher over `client`."""
        self.pool = pool
        self.client = client
        self.topics = topics
        self.policy = policy

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until `stop`; a failing tick is logged and retried on the next one."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception as exc:  # the loop must outlive database outages
                log.warning("downlink publisher: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), TICK_S)

    async def tick(self, now: datetime | None = None) -> int:
        """Expire what is overdue and publish what is due; return how many were published."""
        if not self.client.connected:
            return 0
        now = now or utcnow()
        published = 0
        async with self.pool.connection() as conn, conn.transaction():
            await delivery.expire(conn, now=now)
            for d in await downlinks.due(conn, now=now):
                kind = Downlink.GUIDANCE if d.channel == "guidance" else Downlink.NOTICE
                payload = json.dumps(d.wire(), ensure_ascii=False).encode()
                if not self.client.publish(self.topics.downlink(d.enterprise_id, kind), payload):
                    break
                metrics.DOWNLINKS_SENT.labels(d.channel).inc()
                await delivery.mark_sent(
                    conn,
                    downlink=d,
                    now=now,
                    next_attempt=next_attempt(self.policy, d.attempts, now),
                )
                published += 1
        return published
