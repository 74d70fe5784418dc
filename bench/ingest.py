"""Ingest benchmark: the real monitor against a bare paho subscriber, telemetry against a bare
COPY, and publish→alarm latency at 1,000 events/s — all measured in one run.

    .venv/bin/python bench/ingest.py [--events 30000] [--telemetry 200] [--alarm-seconds 10]

A Mosquitto of our own (project config) on a free port; the monitor is `python -m safewatch
monitor` in a subprocess, the ceiling a bare MQTT 5 subscriber with manual acks (no processing)
in a subprocess; both are fed by the same QoS 1 publisher with the same realistic event mix
(monitor/sim_model.py) over 200 demo enterprises. Results are printed and written to
docs/benchmarks.md between the bench:ingest markers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.demo_data import demo_enterprises  # noqa: E402
from monitor.broker import BrokerProcess, start_mosquitto  # noqa: E402
from monitor.demo_seed import tag_rows  # noqa: E402
from monitor.sim_model import SiteModel  # noqa: E402
from storage.migrate import migrate  # noqa: E402

SERVER = os.environ.get(
    "SAFEWATCH_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DB = "sw_bench_ingest"
SECRET = "bench-secret-key-0123456789abcdef0123456789"
ADMIN_PASSWORD = "bench-admin-password"
DOC = ROOT / "docs" / "benchmarks.md"
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
    models = [SiteModel(c, random.Random(rng.random()), TZ, malformed_share=0.0) for c in codes]
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


def listener(url: str) -> None:
    """Subprocess role: print "<live change id> <time received>" for every NOTIFY."""
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("LISTEN safewatch_live")
        print("READY", flush=True)
        for note in conn.notifies():
            print(note.payload, time.time(), flush=True)


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


def run_ceiling(broker: BrokerProcess, items: list[tuple[str, dict[str, Any]]]) -> float:
    prefix = f"ceil{os.getpid()}/v1"
    proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--ceiling-subscriber",
            str(broker.port),
            prefix,
            str(len(items)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        read_line(proc, "READY", 20)
        pub = Publisher(broker)
        first = pub.burst(prefix, "event", [(c, dict(b)) for c, b in items])
        done = read_line(proc, "DONE", 300).split()
        pub.close()
        return len(items) / (float(done[2]) - first)
    finally:
        proc.wait(30)


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


def wait_count(query: str, n: int, timeout: float = 300) -> int:
    deadline = time.monotonic() + timeout
    got = count(query)
    while got < n and time.monotonic() < deadline:
        time.sleep(0.2)
        got = count(query)
    return int(got)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def run_monitor_events(
    broker: BrokerProcess, items: list[tuple[str, dict[str, Any]]]
) -> dict[str, Any]:
    prefix = f"mon{os.getpid()}/v1"
    proc = start_monitor(broker, prefix, items[0][0])
    try:
        pub = Publisher(broker)
        first = pub.burst(prefix, "event", [(c, dict(b)) for c, b in items])
        accepted = pub.wait_acked()
        pub.close()
        stored = wait_count(
            "SELECT count(DISTINCT event_id) FROM events WHERE event_id NOT LIKE 'warm-%%'",
            len(items),
        )
    finally:
        stop(proc)
    with psycopg.connect(db_url()) as conn:
        rows, distinct, last = conn.execute(
            "SELECT count(*), count(DISTINCT (enterprise_id, event_id)), max(received_at)"
            " FROM events WHERE event_id NOT LIKE 'warm-%'"
        ).fetchone()
        lat = [
            r[0] * 1000
            for r in conn.execute(
                "SELECT extract(epoch FROM received_at - ts)::float8 FROM events"
                " WHERE event_id NOT LIKE 'warm-%'"
            ).fetchall()
        ]
        alarms = conn.execute("SELECT count(*) FROM alarms").fetchone()[0]
    return {
        "events": len(items),
        "accepted": accepted,
        "stored": stored,
        "lost": len(items) - distinct,
        "duplicated": rows - distinct,
        "rate": len(items) / (last.timestamp() - first),
        "p50": percentile(lat, 0.5),
        "p99": percentile(lat, 0.99),
        "alarms": alarms,
    }


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


def bare_copy(msgs: list[tuple[str, dict[str, Any]]]) -> float:
    """Points/s of a bare binary COPY of the same rows into the same table (then removed)."""
    now = datetime.now(UTC)
    rows = [
        (now, code, p["tag"], p["value"], "good") for code, body in msgs for p in body["points"]
    ]
    with psycopg.connect(db_url()) as conn:
        start = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY telemetry (ts, enterprise_id, tag, value, quality) FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(["timestamptz", "text", "text", "float8", "text"])
            for row in rows:
                copy.write_row(row)
        conn.commit()
        elapsed = time.perf_counter() - start
        conn.execute("DELETE FROM telemetry")
        conn.commit()
    return len(rows) / elapsed


def run_monitor_telemetry(broker: BrokerProcess, msgs: list[tuple[str, dict[str, Any]]]) -> float:
    prefix = f"tel{os.getpid()}/v1"
    proc = start_monitor(broker, prefix, msgs[0][0])
    total = sum(len(b["points"]) for _, b in msgs)
    try:
        pub = Publisher(broker)
        first = pub.burst(prefix, "telemetry", [(c, dict(b)) for c, b in msgs])
        pub.wait_acked()
        pub.close()
        wait_count("SELECT count(*) FROM telemetry", total)
        last_batch = time.time()
    finally:
        stop(proc)
    return total / (last_batch - first)


def run_alarm_latency(broker: BrokerProcess, codes: list[str], seconds: float) -> dict[str, Any]:
    """1,000 events/s of the realistic mix; every tenth starts a confined-space entry without a
    gas test (a red alarm). Latency = publish → the alarm's NOTIFY reaching a listener."""
    prefix = f"alm{os.getpid()}/v1"
    n = int(1000 * seconds)
    mix = event_mix(codes, n, seed=23)
    published: dict[str, float] = {}
    items: list[tuple[str, dict[str, Any]]] = []
    for i, (code, body) in enumerate(mix):
        if i % 10 == 0:
            op_id = f"ALM-{i}"
            body = {
                "event_id": f"alm-{i}",
                "type": "special_op_start",
                "op_id": op_id,
                "op_type": "confined_space",
                "permit_no": f"P-{i}",
                "valid_from": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
                "valid_to": (datetime.now(UTC) + timedelta(hours=4)).isoformat(),
                "location": "R-1",
                "guardian": "G",
            }
        items.append((code, body))
    listener = subprocess.Popen(
        [sys.executable, __file__, "--listener", db_url()], stdout=subprocess.PIPE, text=True
    )
    read_line(listener, "READY", 20)
    proc = start_monitor(broker, prefix, codes[0])
    try:
        pub = Publisher(broker)
        start = time.monotonic()
        for i, (code, body) in enumerate(items):
            due = start + i / 1000
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pub.send(f"{prefix}/ent/{code}/event", body)
            if body["event_id"].startswith("alm-"):
                published[body["op_id"]] = datetime.fromisoformat(body["ts"]).timestamp()
        achieved = n / (time.monotonic() - start)
        pub.wait_acked()
        pub.close()
        wait_count(
            "SELECT count(DISTINCT event_id) FROM events WHERE event_id LIKE 'alm-%%'",
            len(published),
        )
        time.sleep(1)
    finally:
        stop(proc)
        listener.terminate()
        out, _ = listener.communicate(timeout=10)
    ids = {int(a): float(b) for a, b in (line.split() for line in out.splitlines() if line)}
    with psycopg.connect(db_url()) as conn:
        rows = conn.execute(
            "SELECT id, payload->>'subject' FROM live_changes WHERE kind = 'alarm'"
            " AND payload->>'rule' = 'gas_test_missing' AND payload->>'change' = 'raised'"
        ).fetchall()
    lat = [(ids[i] - published[s[3:]]) * 1000 for i, s in rows if i in ids and s[3:] in published]
    return {
        "rate": achieved,
        "alarms": len(lat),
        "expected": len(published),
        "p50": percentile(lat, 0.5),
        "p99": percentile(lat, 0.99),
        "max": max(lat, default=0),
    }


def write_doc(section: str) -> None:
    doc = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(r"<!-- bench:ingest -->.*?<!-- /bench:ingest -->", re.S)
    doc = (
        pattern.sub(lambda _m: section, doc)
        if pattern.search(doc)
        else doc.rstrip() + "\n\n" + section + "\n"
    )
    DOC.write_text(doc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30000)
    parser.add_argument("--telemetry", type=int, default=200, help="messages of 1,000 points")
    parser.add_argument("--alarm-seconds", type=float, default=10.0)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()

    codes = fresh_database()
    broker = own_broker()
    try:
        items = event_mix(codes, args.events)
        types: dict[str, int] = {}
        for _, b in items:
            types[b["type"]] = types.get(b["type"], 0) + 1
        ceiling = run_ceiling(broker, items)
        print(f"ceiling (bare paho subscriber, manual ack): {ceiling:,.0f} events/s", flush=True)
        mon = run_monitor_events(broker, items)
        print(f"monitor: {mon}", flush=True)
        msgs = telemetry_messages(codes, args.telemetry)
        copy_rate = bare_copy(msgs)
        print(f"bare COPY: {copy_rate:,.0f} points/s", flush=True)
        tel_rate = run_monitor_telemetry(broker, msgs)
        print(f"monitor telemetry: {tel_rate:,.0f} points/s", flush=True)
        alarm = run_alarm_latency(broker, codes, args.alarm_seconds)
        print(f"alarm latency: {alarm}", flush=True)
    finally:
        broker.stop()
        if broker.process.stderr:
            broker.process.stderr.close()
    ratio = mon["rate"] / ceiling
    tel_ratio = tel_rate / copy_rate

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    mix = ", ".join(f"{k} {v}" for k, v in sorted(types.items(), key=lambda kv: -kv[1]))
    mosquitto = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True).stdout
    ok_events = mon["lost"] == 0 and mon["duplicated"] == 0
    lines = [
        "<!-- bench:ingest -->",
        "## MQTT ingest (`bench/ingest.py`)",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on CPython"
        f" {platform.python_version()}, {os.cpu_count()} CPUs shared by the publisher,"
        f" Mosquitto {mosquitto.split()[2]}, PostgreSQL, the monitor (one process) and other"
        " work on the machine. Own broker with the project config"
        f" (`max_inflight_messages 100`); QoS 1, one publisher; {ENTERPRISES} enterprises.",
        "",
        f"- event mix ({args.events:,} events from the site model): {mix}",
        "- ceiling — bare paho subscriber, manual ack at once, no processing:"
        f" **{ceiling:,.0f} events/s**",
        "- monitor — checks, status machine, special-operation rules, alarms, exactly-once keys,"
        f" COPY, ack after commit: **{mon['rate']:,.0f} events/s**, ratio **{ratio:.2f}**"
        f" (goal ≥ 0.8: {verdict(ratio >= 0.8)}; ≥ 3,000 events/s:"
        f" {verdict(mon['rate'] >= 3000)})",
        f"- lost {mon['lost']}, duplicated {mon['duplicated']} (from the database; goal 0/0:"
        f" {verdict(ok_events)}); broker accepted {mon['accepted']:,};"
        f" {mon['alarms']:,} alarms raised on the way",
        "- publish→stored at saturation (stored = the batch's COPY, just before its commit):"
        f" p50 {mon['p50']:.0f} ms, p99 {mon['p99']:.0f} ms (queueing behind the backlog"
        " of a burst included)",
        f"- telemetry, {args.telemetry} messages × 1,000 points: monitor"
        f" **{tel_rate:,.0f} points/s**; bare binary COPY of the same rows"
        f" **{copy_rate:,.0f} points/s**; ratio **{tel_ratio:.2f}** (goals ≥ 100,000"
        f" points/s: {verdict(tel_rate >= 100000)}; ≥ 0.6 × COPY: {verdict(tel_ratio >= 0.6)})",
        f"- publish→alarm at {alarm['rate']:,.0f} events/s ({args.alarm_seconds:g} s of the"
        " event mix, every tenth event a confined-space entry without gas test → red"
        " `gas_test_missing`; measured to the alarm's NOTIFY reaching a listener process,"
        f" i.e. committed and visible to dashboards): {alarm['alarms']}/{alarm['expected']}"
        f" alarms, p50 {alarm['p50']:.0f} ms, p99 **{alarm['p99']:.0f} ms**,"
        f" max {alarm['max']:.0f} ms (goal p99 ≤ 100 ms: {verdict(alarm['p99'] <= 100)})",
        "<!-- /bench:ingest -->",
    ]
    section = "\n".join(lines)
    print(section)
    if not args.no_doc:
        write_doc(section)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--ceiling-subscriber":
        ceiling_subscriber(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--listener":
        listener(sys.argv[2])
    else:
        main()
