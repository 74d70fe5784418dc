"""Helpers for the monitoring integration tests: seeding, a running ingest, a device publisher."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from psycopg_pool import AsyncConnectionPool

from config.settings import Settings
from demo.data import demo_enterprises
from monitor.broker import BrokerProcess
from monitor.ingest import Ingest
from monitor.topics import Topics
from storage.seed import seed_enterprises


async def seed(pool: AsyncConnectionPool, n: int = 3) -> list[str]:
    """Insert n demo enterprises; return their credit codes."""
    rows = demo_enterprises(max(n, 1))[:n]
    async with pool.connection() as conn:
        await seed_enterprises(conn, rows=rows)
    return [r.credit_code for r in rows]


@contextlib.asynccontextmanager
async def running_ingest(
    settings: Settings, pool: AsyncConnectionPool, *, client_id: str | None = None
) -> AsyncIterator[Ingest]:
    """An ingest consuming in the background until the block ends."""
    ingest = Ingest(settings, pool, client_id=client_id or f"ingest-{time.monotonic_ns()}")
    stop = asyncio.Event()
    task = asyncio.create_task(ingest.run(stop))
    try:
        assert await ingest.client.wait_connected(30), "ingest did not connect"
        assert await ingest.client.wait_subscribed(30), "the broker did not grant the subscription"
        yield ingest
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


class Device:
    """A site's MQTT client (MQTT 5) publishing and collecting downlinks."""

    def __init__(
        self,
        settings: Settings,
        ent: str,
        *,
        host: str | None = None,
        port: int | None = None,
        username: str | None = None,
        password: str | None = None,
        subscribe: bool = True,
    ) -> None:
        """Connect (blocking) and subscribe to the enterprise's downlinks."""
        self.topics = Topics(settings.mqtt_topic_prefix)
        self.ent = ent
        self.received: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"dev-{ent}-{time.monotonic_ns()}",
            protocol=mqtt.MQTTv5,
        )
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_message = self._on_message
        self.client.connect(host or settings.mqtt_host, port or settings.mqtt_port, keepalive=30)
        self.client.loop_start()
        if subscribe:
            info = self.client.subscribe(f"{settings.mqtt_topic_prefix}/ent/{ent}/#", qos=1)
            assert info[0] == mqtt.MQTT_ERR_SUCCESS
        time.sleep(0.1)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        kind = msg.topic.rsplit("/", 1)[-1]
        try:
            body = json.loads(msg.payload)
        except ValueError:
            body = {"raw": msg.payload.decode(errors="replace")}
        with self._lock:
            self.received.append((kind, body))

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        """Downlinks received on …/{kind}."""
        with self._lock:
            return [b for k, b in self.received if k == kind]

    def send(
        self, kind: str, payload: Any, *, qos: int = 1, retain: bool = False, ent: str | None = None
    ) -> None:
        """Publish (dict → JSON; str/bytes as is) and wait for the broker's PUBACK."""
        if isinstance(payload, dict | list):
            data = json.dumps(payload, ensure_ascii=False).encode()
        elif isinstance(payload, str):
            data = payload.encode()
        else:
            data = payload
        topic = self.topics.uplink(ent or self.ent, kind)
        info = self.client.publish(topic, data, qos=qos, retain=retain)
        if qos:
            info.wait_for_publish(5)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def request_restart(dev: Device) -> None:
    """The site reports a whole-plant shutdown (s-1), then asks to restart (r-1, self-check
    passed): the enterprise ends up with one pending restart request."""
    dev.send(
        "event",
        {
            "event_id": "s-1",
            "ts": ts(-20),
            "type": "shutdown",
            "scope": "plant",
            "reason": "停产检修",
        },
    )
    dev.send(
        "event",
        {
            "event_id": "r-1",
            "ts": ts(-10),
            "type": "resume_request",
            "planned_at": ts(86400),
            "self_check": [{"item": "设备完好", "ok": True}],
        },
    )


def ts(delta_s: float = 0.0) -> str:
    """An RFC 3339 timestamp `delta_s` seconds from now."""
    return (datetime.now(UTC) + timedelta(seconds=delta_s)).isoformat()


async def wait_for(
    check: Callable[[], Awaitable[bool]],
    *,
    timeout: float = 10.0,  # noqa: ASYNC109 - a polling deadline, not a cancellation scope
    what: str = "condition",
) -> None:
    """Poll `check` until it is true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def scalar(
    pool: AsyncConnectionPool, query: str, params: dict[str, Any] | None = None
) -> Any:
    """The first column of the first row."""
    async with pool.connection() as conn:
        row = await (await conn.execute(query, params or {})).fetchone()
    return row[0] if row else None


async def rows(
    pool: AsyncConnectionPool, query: str, params: dict[str, Any] | None = None
) -> list[Any]:
    """All rows."""
    async with pool.connection() as conn:
        return list(await (await conn.execute(query, params or {})).fetchall())


def broker_dir() -> Path:
    """A directory the broker can write to (Mosquitto started as root drops to `mosquitto`)."""
    path = Path(tempfile.mkdtemp(prefix="swmq-"))
    (path / "broker").mkdir()
    if os.geteuid() == 0:
        for p in (path, path / "broker"):
            shutil.chown(p, "mosquitto", "mosquitto")
    return path


def readable_by_broker(*paths: Path) -> None:
    """Hand generated files to the broker's user (they are 0600)."""
    if os.geteuid() == 0:
        for p in paths:
            shutil.chown(p, "mosquitto", "mosquitto")


def stop_broker(broker: BrokerProcess) -> None:
    """Stop a broker and close its stderr pipe (BrokerProcess.stop leaves it open)."""
    broker.stop()
    if broker.process.stderr is not None:
        broker.process.stderr.close()
