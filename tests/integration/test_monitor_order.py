"""Event-time order through the real broker and database: a mixed stream for 200 enterprises,
out of order and with late events, on one monitor and on two monitors sharing a subscription —
every enterprise ends in the state of its events applied in event-time order; nothing lost or
stored twice; the false alarms the wrong order raised are closed as superseded."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from psycopg_pool import AsyncConnectionPool

from config.policy_monitoring import load_monitoring_policy
from config.settings import Settings
from domain import replay as rp
from domain.alarms import Rule
from monitor.broker import BrokerProcess, start_mosquitto
from tests.integration.monitor_support import (
    broker_dir,
    rows,
    running_ingest,
    scalar,
    seed,
    stop_broker,
    wait_for,
)
from tests.integration.order_support import (
    Script,
    StreamPublisher,
    check_final_state,
    drive,
    scripts_for,
)

ENTERPRISES = 200


@pytest.fixture
def own_broker() -> Iterator[BrokerProcess]:
    root = broker_dir()
    broker = start_mosquitto(root / "broker")
    yield broker
    stop_broker(broker)


def _local(settings: Settings, broker: BrokerProcess, group: str | None) -> Settings:
    return settings.model_copy(
        update={"mqtt_url": f"mqtt://{broker.host}:{broker.port}", "mqtt_shared_group": group}
    )


async def _count(pool: AsyncConnectionPool) -> int:
    return int(await scalar(pool, "SELECT count(*) FROM events"))


async def _drive(
    pool: AsyncConnectionPool, broker: BrokerProcess, settings: Settings, scripts: list[Script]
) -> None:
    pub = StreamPublisher(broker.host, broker.port, settings.mqtt_topic_prefix)
    try:
        await drive(pool, pub.publish, scripts)
    finally:
        pub.close()


async def _check(pool: AsyncConnectionPool, settings: Settings, scripts: list[Script]) -> None:
    await check_final_state(pool, load_monitoring_policy(settings.policy_dir), scripts)


@contextlib.asynccontextmanager
async def _monitors(
    settings: Settings, pool: AsyncConnectionPool, count: int
) -> AsyncIterator[None]:
    async with contextlib.AsyncExitStack() as stack:
        for i in range(count):
            await stack.enter_async_context(running_ingest(settings, pool, client_id=f"order-{i}"))
        yield


@pytest.mark.slow
async def test_late_events_on_one_monitor(
    settings: Settings, pool: AsyncConnectionPool, own_broker: BrokerProcess
) -> None:
    ents = await seed(pool, ENTERPRISES)
    scripts = scripts_for(ents)
    local = _local(settings, own_broker, None)
    async with _monitors(local, pool, 1):
        await _drive(pool, own_broker, local, scripts)
    await _check(pool, local, scripts)


@pytest.mark.slow
async def test_two_monitors_on_one_shared_subscription(
    settings: Settings, pool: AsyncConnectionPool, own_broker: BrokerProcess
) -> None:
    ents = await seed(pool, ENTERPRISES)
    scripts = scripts_for(ents)
    local = _local(settings, own_broker, "monitor")
    async with _monitors(local, pool, 2):
        await _drive(pool, own_broker, local, scripts)
    await _check(pool, local, scripts)


async def test_the_issue_case_resume_request_before_its_shutdown(
    settings: Settings, pool: AsyncConnectionPool, own_broker: BrokerProcess
) -> None:
    """shutdown then resume_request (same ts, seq 1 and 2) delivered in reverse: the enterprise
    ends restart_requested with one pending request; the false alarm is closed as superseded."""
    (ent,) = await seed(pool, 1)
    local = _local(settings, own_broker, None)
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    sd = {
        "event_id": "sd",
        "ts": at,
        "seq": 1,
        "type": "shutdown",
        "scope": "plant",
        "reason": "停",
    }
    rr = {
        "event_id": "rr",
        "ts": at,
        "seq": 2,
        "type": "resume_request",
        "planned_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        "self_check": [{"item": "安全设施", "ok": True}],
    }
    pub = StreamPublisher(own_broker.host, own_broker.port, local.mqtt_topic_prefix)
    try:
        async with _monitors(local, pool, 1):
            await asyncio.to_thread(pub.publish, [(ent, rr)])

            async def alarm_open() -> bool:
                return bool(
                    await scalar(pool, "SELECT count(*) FROM alarms WHERE state <> 'closed'")
                )

            await wait_for(alarm_open, what="the wrong order's alarm")
            await asyncio.to_thread(pub.publish, [(ent, sd)])

            async def requested() -> bool:
                mode = await scalar(pool, "SELECT mode FROM enterprise_status")
                return mode == "restart_requested"

            await wait_for(requested, what="restart_requested after the late shutdown")
    finally:
        pub.close()
    assert await rows(pool, "SELECT event_id, state FROM restart_requests") == [("rr", "pending")]
    alarms = await rows(pool, "SELECT rule, state, cause_category, action_taken FROM alarms")
    assert [a[:3] for a in alarms] == [(Rule.TRANSITION_NOT_ALLOWED, "closed", rp.SUPERSEDED_CAUSE)]
    assert "被迟到事件取代" in alarms[0][3]
    assert await rows(pool, "SELECT event_id, order_flag FROM events ORDER BY event_id") == [
        ("rr", None),
        ("sd", "late"),
    ]
    kinds = await rows(pool, "SELECT DISTINCT kind FROM live_changes")
    assert {"status", "alarm", "restart_request"} <= {k[0] for k in kinds}


async def test_event_beyond_the_horizon_is_stored_and_flagged_not_applied(
    settings: Settings, pool: AsyncConnectionPool, own_broker: BrokerProcess
) -> None:
    (ent,) = await seed(pool, 1)
    local = _local(settings, own_broker, None)
    now = datetime.now(UTC)
    recent = {
        "event_id": "a",
        "ts": (now - timedelta(minutes=1)).isoformat(),
        "type": "shutdown",
        "scope": "plant",
        "reason": "停",
    }
    old = {
        "event_id": "b",
        "ts": (now - timedelta(days=8)).isoformat(),
        "type": "resume",
        "request_ref": None,
    }
    old.pop("request_ref")
    pub = StreamPublisher(own_broker.host, own_broker.port, local.mqtt_topic_prefix)
    try:
        async with _monitors(local, pool, 1):
            await asyncio.to_thread(pub.publish, [(ent, recent)])

            async def one() -> bool:
                return await _count(pool) == 1

            await wait_for(one, what="the recent event")
            await asyncio.to_thread(pub.publish, [(ent, old)])

            async def two() -> bool:
                return await _count(pool) == 2

            await wait_for(two, what="the old event stored")
    finally:
        pub.close()
    assert await scalar(pool, "SELECT mode FROM enterprise_status") == "shutdown"
    assert await rows(pool, "SELECT event_id, order_flag FROM events ORDER BY event_id") == [
        ("a", None),
        ("b", "beyond_horizon"),
    ]
    assert json.loads(json.dumps(await scalar(pool, "SELECT count(*) FROM alarms"))) == 0
