"""Broker credentials and ACL from `safewatch mqtt-credentials`, on a Mosquitto of our own:
an enterprise can neither publish to nor read another enterprise's topics."""

from __future__ import annotations

import asyncio
import csv
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner

from config.settings import Settings
from monitor.broker import BrokerProcess, start_mosquitto
from monitor.credentials import hash_password, verify_password
from safewatch import app
from tests.conftest import TEST_ADMIN_PASSWORD, TEST_SECRET
from tests.integration.monitor_support import (
    Device,
    broker_dir,
    readable_by_broker,
    running_ingest,
    scalar,
    stop_broker,
    ts,
    wait_for,
)


def test_hash_format_matches_mosquitto_passwd(tmp_path: Path) -> None:
    encoded = hash_password("s3cret", iterations=101, salt=b"0123456789ab")
    assert encoded.startswith("$7$101$")
    assert verify_password("s3cret", encoded)
    assert not verify_password("other", encoded)
    exe = shutil.which("mosquitto_passwd")
    if exe is None:
        pytest.skip("mosquitto_passwd not installed")
    import subprocess

    pw = tmp_path / "pw"
    subprocess.run([exe, "-c", "-b", str(pw), "u", "s3cret"], check=True, capture_output=True)
    theirs = pw.read_text().strip().split(":", 1)[1]
    assert verify_password("s3cret", theirs)


class Client:
    """A minimal MQTT 5 client recording what it receives."""

    def __init__(
        self,
        broker: BrokerProcess,
        user: str | None,
        password: str | None,
        *,
        client_id: str | None = None,
        port: int | None = None,
    ) -> None:
        self.got: list[tuple[str, bytes]] = []
        self.rc: Any = None
        self.assigned: str | None = None
        self.disconnects = 0
        self.c = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id or f"acl-{user}-{time.monotonic_ns()}",
            protocol=mqtt.MQTTv5,
        )
        if user:
            self.c.username_pw_set(user, password)
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = self._on_disconnect
        self.c.on_message = lambda _c, _u, m: self.got.append((m.topic, m.payload))
        self.c.reconnect_delay_set(5, 5)
        self.c.connect(broker.host, port or broker.port)
        self.c.loop_start()
        deadline = time.monotonic() + 5
        while self.rc is None and time.monotonic() < deadline:
            time.sleep(0.02)

    def _on_connect(self, _c: Any, _u: Any, _f: Any, rc: Any, props: Any) -> None:
        self.assigned = getattr(props, "AssignedClientIdentifier", None)
        self.rc = rc

    def _on_disconnect(self, *_args: Any) -> None:
        self.disconnects += 1

    @property
    def ok(self) -> bool:
        return self.rc is not None and not self.rc.is_failure

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture
def secured(
    settings: Settings, db_url: str
) -> Iterator[tuple[BrokerProcess, dict[str, str], list[str]]]:
    from tests.integration.apiclient import seed as seed_sync

    codes = seed_sync(db_url, 2)
    root = broker_dir()
    env = {
        "SAFEWATCH_DATABASE_URL": db_url,
        "SAFEWATCH_MQTT_TOPIC_PREFIX": settings.mqtt_topic_prefix,
        "SAFEWATCH_SECRET_KEY": TEST_SECRET,
        "SAFEWATCH_ADMIN_PASSWORD": TEST_ADMIN_PASSWORD,
    }
    out = root / "creds"
    result = CliRunner().invoke(app, ["mqtt-credentials", "--out-dir", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "3 accounts" in result.output
    first = (out / "credentials.csv").read_text()
    again = CliRunner().invoke(app, ["mqtt-credentials", "--out-dir", str(out)], env=env)
    assert again.exit_code == 0
    assert (out / "credentials.csv").read_text() == first  # passwords kept
    # Explicit modes, whatever the umask: the broker's user reads its files, the plain
    # passwords stay private (the broker-side checks are in test_compose_stack.py).
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in (out, *out.iterdir())}
    assert modes == {
        "creds": "0o755",
        "passwd": "0o644",
        "acl": "0o644",
        "service.passwd": "0o644",
        "service.acl": "0o644",
        "mosquitto.conf": "0o644",
        "credentials.csv": "0o600",
    }
    files = [out / n for n in ("passwd", "acl", "service.passwd", "service.acl")]
    assert "safewatch:" not in (out / "passwd").read_text()  # the service: own listener only
    assert all(c not in (out / "service.passwd").read_text() for c in codes)
    readable_by_broker(out, *files)
    broker = start_mosquitto(
        root / "broker",
        password_file=out / "passwd",
        acl_file=out / "acl",
        service_password_file=out / "service.passwd",
        service_acl_file=out / "service.acl",
    )
    with (out / "credentials.csv").open() as fh:
        passwords = {r["username"]: r["password"] for r in csv.DictReader(fh)}
    yield broker, passwords, codes
    stop_broker(broker)
    shutil.rmtree(root, ignore_errors=True)


def test_enterprise_isolation(settings: Settings, secured) -> None:
    broker, pw, (a, b) = secured
    prefix = settings.mqtt_topic_prefix
    assert not Client(broker, None, None).ok  # anonymous refused
    assert not Client(broker, a, "wrong").ok
    svc = Client(broker, "safewatch", pw["safewatch"], port=broker.service_port)
    assert not Client(broker, "safewatch", pw["safewatch"]).ok  # not on the sites' listener
    assert not Client(broker, a, pw[a], port=broker.service_port).ok  # nor a site on the service's
    ca, cb = Client(broker, a, pw[a]), Client(broker, b, pw[b])
    try:
        assert svc.ok
        assert ca.ok
        assert cb.ok
        svc.c.subscribe(f"{prefix}/ent/+/+", qos=1)
        ca.c.subscribe(f"{prefix}/ent/{b}/#", qos=1)  # someone else's subtree
        ca.c.subscribe(f"{prefix}/ent/+/guidance", qos=1)  # everyone's guidance
        ca.c.subscribe(f"{prefix}/ent/{a}/#", qos=1)
        cb.c.subscribe(f"{prefix}/ent/{b}/#", qos=1)
        time.sleep(0.3)
        ca.c.publish(f"{prefix}/ent/{b}/event", b"forged", qos=1).wait_for_publish(3)
        ca.c.publish(f"{prefix}/ent/{a}/event", b"own", qos=1).wait_for_publish(3)
        svc.c.publish(f"{prefix}/ent/{b}/guidance", b"for-b", qos=1).wait_for_publish(3)
        svc.c.publish(f"{prefix}/ent/{a}/guidance", b"for-a", qos=1).wait_for_publish(3)
        time.sleep(0.5)
        assert (f"{prefix}/ent/{a}/event", b"own") in svc.got
        assert all(p != b"forged" for _, p in svc.got + cb.got)
        assert all(p != b"for-b" for _, p in ca.got)
        assert (f"{prefix}/ent/{a}/guidance", b"for-a") in ca.got
        assert (f"{prefix}/ent/{b}/guidance", b"for-b") in cb.got
    finally:
        for c in (svc, ca, cb):
            c.close()


async def test_ingest_with_service_account_and_shared_subscription(
    settings: Settings, pool, secured
) -> None:
    broker, pw, (a, _b) = secured
    svc = settings.model_copy(
        update={
            "mqtt_url": f"mqtt://{broker.host}:{broker.service_port}",
            "mqtt_username": "safewatch",
            "mqtt_password": pw["safewatch"],
            "mqtt_shared_group": "monitors",
        }
    )
    dev = Device(svc, a, port=broker.port, username=a, password=pw[a])
    try:
        async with running_ingest(svc, pool):
            dev.send(
                "event",
                {
                    "event_id": "acl-1",
                    "ts": ts(),
                    "type": "shutdown",
                    "scope": "plant",
                    "reason": "r",
                },
            )
            dev.send("event", {"event_id": "acl-2", "ts": "bad", "type": "shutdown"})

            async def stored() -> bool:
                return await scalar(pool, "SELECT count(*) FROM events") == 1

            await wait_for(stored, what="event through the secured broker")
            await wait_for(lambda: _rejected(dev), what="reject answered through the ACL")
    finally:
        dev.close()


async def _rejected(dev: Device) -> bool:
    return bool(dev.of_kind("reject"))


async def test_no_site_can_take_over_the_monitors_or_another_sites_session(
    settings: Settings, pool, secured
) -> None:
    broker, pw, (a, b) = secured
    svc = settings.model_copy(
        update={
            "mqtt_url": f"mqtt://{broker.host}:{broker.service_port}",
            "mqtt_username": "safewatch",
            "mqtt_password": pw["safewatch"],
        }
    )
    monitor_id = svc.mqtt_client_id
    site_b = Client(broker, b, pw[b], client_id=f"site-{b}")
    assert site_b.ok
    total = 300
    topic = f"{svc.mqtt_topic_prefix}/ent/{b}/event"

    def publish_b() -> int:
        # Ten job ids, started again and again (a repeated start reopens the job): every event is
        # stored, and B stays under the bureau's bound on open maintenance jobs.
        acked = 0
        for n in range(total):
            body = (
                f'{{"event_id": "tk-{n}", "ts": "{ts()}", "type": "maintenance_start",'
                f' "maint_id": "M{n % 10}", "scope": "plant"}}'
            )
            info = site_b.c.publish(topic, body.encode(), qos=1)
            info.wait_for_publish(10)
            acked += info.is_published()
        return acked

    try:
        async with running_ingest(svc, pool, client_id=monitor_id) as ingest:
            generation = ingest.client.generation
            publishing = asyncio.create_task(asyncio.to_thread(publish_b))
            # A tries the monitor's id and B's ids on the sites' listener: the broker replaces
            # them with A's user name, so nobody else's session is touched.
            for cid in (monitor_id, b, f"site-{b}", monitor_id):
                attacker = await asyncio.to_thread(Client, broker, a, pw[a], client_id=cid)
                assert attacker.ok
                attacker.c.publish(f"{svc.mqtt_topic_prefix}/ent/{a}/presence", b"{}", qos=1)
                await asyncio.sleep(0.3)  # keep the attacker's session open for a while
                attacker.close()
            # …and the service's listener does not know A at all.
            assert not Client(broker, a, pw[a], client_id=monitor_id, port=broker.service_port).ok
            acked = await publishing

            async def all_stored() -> bool:
                n = await scalar(pool, "SELECT count(*) FROM events WHERE event_id LIKE 'tk-%%'")
                return n == total

            await wait_for(all_stored, timeout=60, what="every event B published stored")
            assert acked == total
            assert ingest.client.generation == generation  # the monitor was never disconnected
            assert ingest.client.connected
            assert site_b.disconnects == 0
    finally:
        site_b.close()
