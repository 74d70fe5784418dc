"""Fault and abuse suite: `python -m bench.faults [--short]` prints, per scenario, what was sent,
stored, lost and duplicated, the monitor's peak memory and the time to recover.

Everything runs on parts the suite owns: a PostgreSQL cluster in a temporary directory on a
free port (stopped and restarted in one scenario; never the machine's own cluster), Mosquitto
with the project's config on free ports (with the generated per-enterprise credentials and
ACL in the takeover scenario), and `safewatch monitor` as a subprocess. `sent` counts the QoS 1
messages the broker acknowledged: those must be stored exactly once. The schemathesis run over
the OpenAPI schema is tests/integration/test_schemathesis.py; the 30-minute soak is
`python -m bench.ingest` territory (see docs/reliability.md for the command).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.fault_support import (  # noqa: E402
    ADMIN_PASSWORD,
    SECRET,
    Monitor,
    PgCluster,
    Publisher,
    own_broker,
    stored,
    wait_until,
)
from config.settings import load_settings  # noqa: E402
from demo.data import demo_enterprises  # noqa: E402
from monitor.broker import BrokerProcess, start_mosquitto  # noqa: E402
from monitor.credentials import generate, read_accounts  # noqa: E402
from storage.migrate import migrate  # noqa: E402

PREFIX = "faults/v1"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table."""

    scenario: str
    sent: int
    stored: int
    lost: int
    duplicated: int
    peak_mib: float
    recovery_s: float | None
    note: str = ""


@dataclass
class Ctx:
    """What every scenario shares."""

    cluster: PgCluster
    db: str
    ents: list[str]
    short: bool
    #: The fuzz scenario's own enterprises. The stream scenarios leave 20,000–130,000 events in
    #: the histories of theirs, and each late fuzzed event would replay one of those whole
    #: histories (1–3 s each: docs/reliability.md, "Long histories"), measuring that instead.
    fuzz_ents: list[str]


def _monitor_env(ctx: Ctx, broker: BrokerProcess, port: int | None = None) -> dict[str, str]:
    return {
        "SAFEWATCH_DATABASE_URL": ctx.db,
        "SAFEWATCH_MQTT_URL": f"mqtt://{broker.host}:{port or broker.port}",
        "SAFEWATCH_MQTT_TOPIC_PREFIX": PREFIX,
        "SAFEWATCH_MQTT_CLIENT_ID": "safewatch-monitor",
    }


def _row(
    name: str,
    pub: Publisher,
    ctx: Ctx,
    mon: Monitor,
    recovery: float | None,
    note: str = "",
    timeout: float = 120,
) -> Row:
    accepted = pub.accepted
    like = f"{pub.tag}-%"
    wait_until(lambda: stored(ctx.db, like)[1] >= len(accepted), timeout, 0.2)
    rows, distinct = stored(ctx.db, like)
    mon.sample()
    return Row(
        name,
        len(accepted),
        distinct,
        max(0, len(accepted) - distinct),
        rows - distinct,
        mon.peak_kib / 1024,
        recovery,
        note,
    )


def _until_consuming(ctx: Ctx, broker: BrokerProcess, tag: str, **auth: str) -> None:
    """Send single events until the (re)started monitor stores one."""
    warm = Publisher(broker, PREFIX, ctx.ents[-1], 0, 1, tag=tag, **auth)
    try:
        n = 0
        while stored(ctx.db, f"{tag}-%")[0] == 0 and n < 120:
            warm.c.publish(warm.topic, warm.body(n), qos=1).wait_for_publish(5)
            n += 1
            time.sleep(0.5)
    finally:
        warm.close()


def _resumed(ctx: Ctx, like: str, mon: Monitor, t0: float, timeout: float = 90) -> float:
    """Seconds from `t0` (the fault) until the stored count grows again."""
    before = stored(ctx.db, like)[0]

    def moved() -> bool:
        mon.sample()
        return stored(ctx.db, like)[0] > before

    wait_until(moved, timeout, 0.05)
    return time.monotonic() - t0


def _stream(
    ctx: Ctx,
    name: str,
    tag: str,
    fault: Callable[[Ctx, BrokerProcess, Path, Monitor], BrokerProcess],
) -> Row:
    """A monitor consuming a steady stream; `fault` breaks something (returning the broker,
    maybe restarted); recovery is from the fault until rows are stored again."""
    broker, root = own_broker()
    mon = Monitor(_monitor_env(ctx, broker)).start()
    total, per_tick = (1500, 25) if ctx.short else (20000, 100)  # 500/s or 2,000/s
    note = "500/s" if ctx.short else "2,000/s"
    try:
        _until_consuming(ctx, broker, f"{tag}w")
        pub = Publisher(broker, PREFIX, ctx.ents[0], total, per_tick, tag=tag).start()
        wait_until(lambda: stored(ctx.db, f"{tag}-%")[0] >= total // 4, 60)
        t0 = time.monotonic()
        broker = fault(ctx, broker, root, mon)
        recovery = _resumed(ctx, f"{tag}-%", mon, t0)
        pub.wait()
        pub.close()
        return _row(name, pub, ctx, mon, recovery, note)
    finally:
        mon.stop()
        broker.stop()
        shutil.rmtree(root, ignore_errors=True)


def _kill(ctx: Ctx, broker: BrokerProcess, root: Path, mon: Monitor) -> BrokerProcess:
    mon.kill()
    mon.start()
    return broker


def _pg_restart(ctx: Ctx, broker: BrokerProcess, root: Path, mon: Monitor) -> BrokerProcess:
    ctx.cluster.stop("fast")  # sessions terminated, as in a maintenance restart
    time.sleep(1.0)
    ctx.cluster.start()
    return broker


def _broker_restart(ctx: Ctx, broker: BrokerProcess, root: Path, mon: Monitor) -> BrokerProcess:
    broker.stop()  # SIGTERM: Mosquitto writes its persistence file
    return start_mosquitto(root / "broker", port=broker.port)


def monitor_sigkill(ctx: Ctx) -> Row:
    """SIGKILL the monitor mid-stream and start it again."""
    return _stream(ctx, "monitor SIGKILL", "kill", _kill)


def postgres_restart(ctx: Ctx) -> Row:
    """Restart PostgreSQL (fast shutdown, 1 s down) mid-stream."""
    return _stream(ctx, "PostgreSQL restart", "pgrs", _pg_restart)


def broker_restart(ctx: Ctx) -> Row:
    """Restart Mosquitto with persistence mid-stream (unacknowledged in-flight publications
    were never accepted, so they are not counted as sent)."""
    return _stream(ctx, "broker restart", "brk", _broker_restart)


def session_takeover(ctx: Ctx) -> Row:
    """Site A connects again and again with the monitor's client id and with B's, on the
    production listeners (generated credentials and ACL), while B streams events."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    a, b = ctx.ents[0], ctx.ents[1]
    root = Path(tempfile.mkdtemp(prefix="swtk-"))
    root.chmod(0o711)  # the broker's user must reach the credentials inside
    written = generate(
        root / "creds",
        prefix=PREFIX,
        service_user="safewatch",
        service_password=None,
        enterprises=[a, b],
    )
    pw = {k: v.password for k, v in read_accounts(written.credentials).items()}
    broker, broker_root = own_broker(
        password_file=written.password_file,
        acl_file=written.acl_file,
        service_password_file=written.service_password_file,
        service_acl_file=written.service_acl_file,
    )
    env = _monitor_env(ctx, broker, broker.service_port)
    env |= {"SAFEWATCH_MQTT_USERNAME": "safewatch", "SAFEWATCH_MQTT_PASSWORD": pw["safewatch"]}
    mon = Monitor(env).start()
    total = 600 if ctx.short else 5000
    attempts = 0
    try:
        _until_consuming(ctx, broker, "tkw", username=b, password=pw[b])
        pub = Publisher(broker, PREFIX, b, total, 20, tag="tk", username=b, password=pw[b]).start()
        while pub.thread.is_alive():
            for cid in ("safewatch-monitor", b, f"site-{b}"):
                x = mqtt.Client(
                    callback_api_version=CallbackAPIVersion.VERSION2,
                    client_id=cid,
                    protocol=mqtt.MQTTv5,
                )
                x.username_pw_set(a, pw[a])
                x.connect(broker.host, broker.port)
                x.loop_start()
                time.sleep(0.1)
                x.disconnect()
                x.loop_stop()
                attempts += 1
        pub.wait()
        pub.close()
        return _row("session takeover", pub, ctx, mon, None, f"{attempts} attempts by A")
    finally:
        mon.stop()
        broker.stop()
        shutil.rmtree(broker_root, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)


def burst(ctx: Ctx, factor: int) -> Row:
    """`factor` × the sustained rate for a few seconds; the backlog's drain time."""
    sustained = 100 if ctx.short else 1000
    seconds = 2 if ctx.short else 10
    tag = f"b{factor}x"
    broker, root = own_broker()
    mon = Monitor(_monitor_env(ctx, broker)).start()
    try:
        _until_consuming(ctx, broker, f"{tag}w")
        rate = sustained * factor
        total = rate * seconds
        per_tick = max(1, rate // 20)
        started = time.monotonic()
        pub = Publisher(broker, PREFIX, ctx.ents[2], total, per_tick, tag=tag).start()
        pub.wait()
        offered = total / max(1e-9, (pub.finished_at or time.monotonic()) - started)
        end = pub.finished_at or time.monotonic()
        wait_until(lambda: stored(ctx.db, f"{tag}-%")[1] >= len(pub.accepted), 180, 0.05)
        drain = max(0.0, time.monotonic() - end)
        pub.close()
        note = f"{rate}/s asked, {offered:.0f}/s offered; drain {drain:.1f} s"
        return _row(f"burst {factor}x", pub, ctx, mon, drain, note)
    finally:
        mon.stop()
        broker.stop()
        shutil.rmtree(root, ignore_errors=True)


def fuzz(ctx: Ctx) -> Row:
    """Generated payloads and topics through the real parser and handler."""
    from bench.fault_fuzz import run_fuzz

    app_settings = load_settings(
        database_url=ctx.db,
        mqtt_url="mqtt://127.0.0.1:1",  # never connected: the handler is called directly
        mqtt_topic_prefix=PREFIX,
        secret_key=SECRET,
        admin_password=ADMIN_PASSWORD,
    )
    r = run_fuzz(app_settings, ctx.fuzz_ents, 2000 if ctx.short else 100_000)
    return Row(
        "fuzz (hypothesis)",
        r["sent"],
        r["stored"],
        r["lost"],
        r["duplicated"],
        r["peak_kib"] / 1024,
        None,
        f"{r['refused']} refused with a reason, {r['sent'] / r['seconds']:.0f} msg/s",
    )


def _telemetry(broker: BrokerProcess, ent: str, stop: threading.Event, per_s: int) -> None:
    """Telemetry beside the events: `per_s` QoS 1 messages of 10 points each."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    c = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"soak-tel-{time.monotonic_ns()}",
        protocol=mqtt.MQTTv5,
    )
    c.connect(broker.host, broker.port)
    c.loop_start()
    topic = f"{PREFIX}/ent/{ent}/telemetry"
    try:
        while not stop.is_set():
            now = datetime.now(UTC).isoformat()
            for _ in range(max(1, per_s // 10)):
                # Values drawn per message: identical payloads are one message to the ingest
                # (the exactly-once digest), so repeating one payload sent a tenth of the load.
                points = [{"tag": f"T{i}", "value": random.uniform(0, 100)} for i in range(10)]
                c.publish(topic, json.dumps({"ts": now, "points": points}).encode(), qos=1)
            stop.wait(0.1)
    finally:
        c.disconnect()
        c.loop_stop()


def soak(ctx: Ctx, minutes: float, rate: int = 1000) -> Row:
    """`rate` events/s plus telemetry for `minutes`: memory slope and p99 publish→stored."""
    broker, root = own_broker()
    mon = Monitor(_monitor_env(ctx, broker)).start()
    stop = threading.Event()
    try:
        _until_consuming(ctx, broker, "soakw")
        total = int(rate * minutes * 60)
        pub = Publisher(broker, PREFIX, ctx.ents[3], total, max(1, rate // 20), tag="soak").start()
        tel = threading.Thread(target=_telemetry, args=(broker, ctx.ents[4], stop, 100))
        tel.start()
        started = time.monotonic()
        samples: list[tuple[float, float]] = []
        while pub.thread.is_alive():
            samples.append(((time.monotonic() - started) / 3600, mon.rss_kib() / 1024))
            mon.sample()
            pub.thread.join(10)
        stop.set()
        tel.join()
        pub.wait()
        pub.close()
        row = _row(f"soak {minutes:g} min", pub, ctx, mon, None)
        slope = statistics.linear_regression(*zip(*samples, strict=True)).slope
        with psycopg.connect(ctx.db) as conn:
            p99 = conn.execute(
                "SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM"
                " received_at - (payload->>'ts')::timestamptz)) FROM events"
                " WHERE event_id LIKE 'soak-%'"
            ).fetchone()
        note = f"RSS slope {slope:+.1f} MiB/h; p99 publish→stored {float(p99[0]) * 1000:.0f} ms"
        return Row(
            row.scenario, row.sent, row.stored, row.lost, row.duplicated, row.peak_mib, None, note
        )
    finally:
        stop.set()
        mon.stop()
        broker.stop()
        shutil.rmtree(root, ignore_errors=True)


SCENARIOS: list[tuple[str, Callable[[Ctx], Row]]] = [
    ("monitor SIGKILL", monitor_sigkill),
    ("PostgreSQL restart", postgres_restart),
    ("broker restart", broker_restart),
    ("session takeover", session_takeover),
    ("burst 3x", lambda c: burst(c, 3)),
    ("burst 10x", lambda c: burst(c, 10)),
    ("fuzz (hypothesis)", fuzz),
]


def setup(short: bool) -> Ctx:
    """The suite's own cluster, migrated, with demo enterprises."""
    cluster = PgCluster()
    cluster.start()
    db = cluster.database("sw_faults")
    migrate(db)
    rows = demo_enterprises(10)
    with psycopg.connect(db) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO enterprises (credit_code, name, county, sector) VALUES (%s, %s, %s, %s)",
            [(r.credit_code, r.name, r.county, r.sector) for r in rows],
        )
    codes = [r.credit_code for r in rows]
    return Ctx(cluster, db, codes[:5], short, codes[5:])


def table(rows: list[Row]) -> str:
    """The markdown table."""
    out = [
        "| scenario | sent | stored | lost | duplicated | peak memory | recovery | note |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        rec = "—" if r.recovery_s is None else f"{r.recovery_s:.1f} s"
        out.append(
            f"| {r.scenario} | {r.sent:,} | {r.stored:,} | {r.lost} | {r.duplicated} |"
            f" {r.peak_mib:.0f} MiB | {rec} | {r.note} |"
        )
    return "\n".join(out)


def run(
    *,
    short: bool,
    only: list[str] | None = None,
    soak_minutes: float | None = None,
    progress: bool = False,
) -> list[Row]:
    """Run the scenarios (all, or those whose name contains one of `only`; with
    `soak_minutes`, only the soak)."""
    ctx = setup(short)
    rows = []
    try:
        if soak_minutes is not None:
            return [soak(ctx, soak_minutes)]
        for name, scenario in SCENARIOS:
            if only and not any(o in name for o in only):
                continue
            rows.append(scenario(ctx))
            if progress:  # a long run keeps the rows it finished, whatever happens later
                print(table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    finally:
        ctx.cluster.destroy()
    return rows


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the CI form (seconds, not minutes)")
    parser.add_argument("--only", action="append", help="scenario name substring (repeat)")
    parser.add_argument(
        "--soak", type=float, metavar="MINUTES", help="only the soak: 1,000 events/s + telemetry"
    )
    args = parser.parse_args()
    rows = run(short=args.short, only=args.only, soak_minutes=args.soak, progress=True)
    print(table(rows))
    if any(r.lost or r.duplicated for r in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
