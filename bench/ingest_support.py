"""Pieces of bench/ingest.py: the bench database and broker, the publisher, the subprocess
roles (bare ceiling subscriber, NOTIFY listener), the monitor subprocess."""

from __future__ import annotations

import json
import os
import random
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo.data import demo_enterprises  # noqa: E402
from monitor.broker import BrokerProcess, start_mosquitto  # noqa: E402
from monitor.demo_seed import tag_rows  # noqa: E402
from monitor.sim_model import SiteModel  # noqa: E402
from monitor.sim_profile import STORM  # noqa: E402
from storage.migrate import migrate  # noqa: E402

SERVER = os.environ.get(
    "SAFEWATCH_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DB = "sw_bench_ingest"
SECRET = "bench-secret-key-0123456789abcdef0123456789"
ADMIN_PASSWORD = "bench-admin-password"
ENTERPRISES = 200
TZ = ZoneInfo("Asia/Shanghai")


def db_url() -> str:
    return psycopg.conninfo.make_conninfo(SERVER, dbname=DB)


def fresh_database() -> list[str]:
    """Drop and recreate the bench database; load 200 demo enterprises and their tags."""
    admin = psycopg.conninfo.make_conninfo(SERVER, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB)))
    migrate(db_url())
    rows = demo_enterprises(ENTERPRISES)
    with psycopg.connect(db_url()) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO enterprises (credit_code, name, county, sector) VALUES (%s, %s, %s, %s)",
            [(r.credit_code, r.name, r.county, r.sector) for r in rows],
        )
        for r in rows:
            cur.executemany(
                "INSERT INTO telemetry_tags (enterprise_id, tag, kind, unit, description, hh, h,"
                " l, ll, deadband, delay_s, stale_after_s, enabled) VALUES (%(enterprise_id)s,"
                " %(tag)s, %(kind)s, %(unit)s, %(description)s, %(hh)s, %(h)s, %(l)s, %(ll)s,"
                " %(deadband)s, %(delay_s)s, %(stale_after_s)s, %(enabled)s)",
                tag_rows(r.credit_code),
            )
    return [r.credit_code for r in rows]


def own_broker() -> BrokerProcess:
    """Mosquitto with the project's config on a free port (its dir owned by the broker's user)."""
    root = Path(tempfile.mkdtemp(prefix="swbench-"))
    (root / "broker").mkdir()
    if os.geteuid() == 0:
        for p in (root, root / "broker"):
            shutil.chown(p, "mosquitto", "mosquitto")
    return start_mosquitto(root / "broker")


def event_mix(codes: list[str], n: int, seed: int = 11) -> list[tuple[str, dict[str, Any]]]:
    """n valid operation events from simulated sites (ts is set when published)."""
    rng = random.Random(seed)
    models = [
        SiteModel(c, random.Random(rng.random()), TZ, malformed_share=0.0, profile=STORM)
        for c in codes
    ]
    for m in models:
        m.committed_day = datetime.now(TZ).date().isoformat()
    out: list[tuple[str, dict[str, Any]]] = []
    now = datetime.now(UTC)
    while len(out) < n:
        m = rng.choice(models)
        kind, payload = m.next(now)
        if kind == "event" and isinstance(payload, dict):
            out.append((m.code, payload))
    return out


class Publisher:
    """One QoS 1 publisher (paho network thread); sets each message's ts when it publishes."""

    def __init__(self, broker: BrokerProcess) -> None:
        self.c = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"bench-pub-{time.monotonic_ns()}",
            protocol=mqtt.MQTTv5,
        )
        self.c.max_inflight_messages_set(1000)
        self.c.connect(broker.host, broker.port)
        self.c.loop_start()
        self.infos: list[mqtt.MQTTMessageInfo] = []

    def send(self, topic: str, body: dict[str, Any], ts_field: str = "ts") -> None:
        body[ts_field] = datetime.now(UTC).isoformat()
        self.infos.append(
            self.c.publish(topic, json.dumps(body, ensure_ascii=False).encode(), qos=1)
        )

    def burst(self, prefix: str, kind: str, items: list[tuple[str, dict[str, Any]]]) -> float:
        """Publish everything as fast as paho takes it; return the time of the first publish."""
        first = time.time()
        for i, (code, body) in enumerate(items):
            self.send(f"{prefix}/ent/{code}/{kind}", body)
            if i % 1000 == 999:
                while sum(1 for x in self.infos[-2000:] if not x.is_published()) > 1500:
                    time.sleep(0.001)
        return first

    def paced(self, prefix: str, items: list[tuple[str, dict[str, Any]]], rate: float) -> None:
        """Publish at a steady rate (ticks of 10 ms)."""
        start = time.monotonic()
        for i, (code, body) in enumerate(items):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.send(f"{prefix}/ent/{code}/event", body)

    def wait_acked(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(i.is_published() for i in self.infos):
                break
            time.sleep(0.05)
        return sum(1 for i in self.infos if i.is_published())

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def ceiling_subscriber(port: int, prefix: str, expect: int) -> None:
    """Subprocess role: subscribe like the monitor, ack at once, report first/last receive times."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    state = {"n": 0, "first": 0.0}
    done = threading.Event()
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"ceiling-{prefix}",
        protocol=mqtt.MQTTv5,
        manual_ack=True,
    )

    def on_connect(c: mqtt.Client, _u: Any, _f: Any, _rc: Any, _p: Any) -> None:
        c.subscribe(f"{prefix}/ent/+/+", qos=1)

    def on_subscribe(*_a: Any) -> None:
        print("READY", flush=True)

    def on_message(c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        c.ack(msg.mid, msg.qos)
        state["n"] += 1
        if state["n"] == 1:
            state["first"] = time.time()
        if state["n"] == expect:
            print(f"DONE {state['first']} {time.time()} {state['n']}", flush=True)
            done.set()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    props.ReceiveMaximum = 1000
    client.connect("127.0.0.1", port, clean_start=False, properties=props)
    client.loop_start()
    done.wait(300)
    client.disconnect()
    client.loop_stop()


def listener(url: str, out: str) -> None:
    """Subprocess role: write "<live change id> <time received>" for every NOTIFY to `out`
    (a file, not a pipe: a full pipe would stall the listener and skew what it measures)."""
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with psycopg.connect(url, autocommit=True) as conn, open(out, "w") as fh:
        conn.execute("LISTEN safewatch_live")
        print("READY", flush=True)
        for note in conn.notifies():
            fh.write(f"{note.payload} {time.time()}\n")
            fh.flush()


def read_line(proc: subprocess.Popen[str], prefix: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            if line.startswith(prefix):
                return line.strip()
    raise TimeoutError(f"no {prefix} from subprocess")


def monitor_env(broker: BrokerProcess, prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFEWATCH_")}
    env.update(
        SAFEWATCH_DATABASE_URL=db_url(),
        SAFEWATCH_MQTT_URL=f"mqtt://{broker.host}:{broker.port}",
        SAFEWATCH_MQTT_TOPIC_PREFIX=prefix,
        SAFEWATCH_MQTT_CLIENT_ID=f"bench-monitor-{prefix}",
        SAFEWATCH_SECRET_KEY=SECRET,
        SAFEWATCH_ADMIN_PASSWORD=ADMIN_PASSWORD,
        SAFEWATCH_LOG_LEVEL="WARNING",
    )
    return env


def count(query: str, params: dict[str, Any] | None = None) -> Any:
    with psycopg.connect(db_url()) as conn:
        row = conn.execute(query, params or {}).fetchone()
    return row[0] if row else None


def start_monitor(broker: BrokerProcess, prefix: str, code: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "safewatch", "monitor"],
        cwd=ROOT,
        env=monitor_env(broker, prefix),
        stdout=subprocess.DEVNULL,
    )
    pub = Publisher(broker)
    deadline = time.monotonic() + 60
    warm = {"event_id": f"warm-{prefix}", "type": "maintenance_end", "maint_id": "warm"}
    while time.monotonic() < deadline:  # until this monitor has subscribed and stores
        pub.send(f"{prefix}/ent/{code}/event", dict(warm))
        time.sleep(0.5)
        if count("SELECT count(*) FROM events WHERE event_id = %(e)s", {"e": warm["event_id"]}):
            break
    pub.close()
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_count(query: str, n: int, timeout: float = 300, poll: float = 0.2) -> int:
    deadline = time.monotonic() + timeout
    got = count(query)
    while got < n and time.monotonic() < deadline:
        time.sleep(poll)
        got = count(query)
    return int(got)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def telemetry_messages(codes: list[str], n: int) -> list[tuple[str, dict[str, Any]]]:
    tags = [f"F{i:03d}.PV" for i in range(996)] + ["TT101", "PT101", "LT101", "AT101"]
    rng = random.Random(5)
    return [
        (
            codes[i % len(codes)],
            {"points": [{"tag": t, "value": round(rng.gauss(50, 5), 3)} for t in tags]},
        )
        for i in range(n)
    ]
