"""`safewatch conformance`: a scripted scenario against a site client, judged by the service's own
checks, printed as a checklist (docs/protocol.md, "Sandbox and conformance").

The command starts Mosquitto with the production configuration (the sites' listener binds the
client id to the account; per-enterprise ACL) and one account for the enterprise, watches the
enterprise's topics as the service does, and drives the client given as a command line:

1. start it and wait for its presence; 2. send a guidance that asks for an ack; 3. watch it for a
while (heartbeat, every message through the service's own parser); 4. SIGTERM (a planned stop);
5. start it again, then SIGKILL (the last will). Every uplink is judged with monitor.parse.check,
exactly as the ingest judges it, and event ids with the canonical rule of monitor/canonical.py.
"""

from __future__ import annotations

import itertools
import json
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.subscribeoptions import SubscribeOptions

from config.policy_monitoring import load_monitoring_policy
from config.settings import DEFAULT_POLICY_DIR
from monitor.broker import BrokerProcess, read_passwords, start_for_accounts
from monitor.canonical import canonical_digest
from monitor.credentials import generate
from monitor.parse import Accepted, Inbound, Limits, Refused, check
from monitor.schemas import EventBase
from monitor.topics import Topics, Uplink

SERVICE_USER = "safewatch-conformance"
QOS1_KINDS = frozenset({"event", "commitment", "presence", "ack"})


@dataclass(frozen=True, slots=True)
class Options:
    """What to run and how long to wait (defaults: the documented values)."""

    client: str
    enterprise: str = "913301020000000019"
    prefix: str = "safewatch/v1"
    connect_timeout_s: float = 30.0
    ack_timeout_s: float = 10.0
    observe_s: float = 70.0
    heartbeat_limit_s: float = 60.0
    stop_timeout_s: float = 10.0
    workdir: Path | None = None


@dataclass(frozen=True, slots=True)
class Seen:
    """One uplink the broker delivered to the watcher."""

    kind: str
    topic: str
    payload: bytes
    qos: int
    retain: bool
    at: float  # monotonic
    wall: datetime


@dataclass
class Check:
    """One line of the checklist."""

    title: str
    outcome: str = "not seen"  # pass | fail | not seen
    detail: str = ""

    def passed(self, detail: str = "") -> None:
        """Mark it passed."""
        self.outcome, self.detail = "pass", detail

    def failed(self, detail: str) -> None:
        """Mark it failed, saying why."""
        self.outcome, self.detail = "fail", detail


@dataclass
class Report:
    """The checklist of one run."""

    checks: dict[str, Check] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return all(c.outcome != "fail" for c in self.checks.values())

    def text(self) -> str:
        """The printed checklist."""
        marks = {"pass": "PASS", "fail": "FAIL", "not seen": "----"}
        lines = []
        for n, c in enumerate(self.checks.values(), start=1):
            line = f"[{marks[c.outcome]}] {n:2d}. {c.title}"
            lines.append(line + (f"\n           {c.detail}" if c.detail else ""))
        counts = {o: sum(c.outcome == o for c in self.checks.values()) for o in marks}
        lines.append(
            f"{len(self.checks)} checks: {counts['pass']} passed, {counts['fail']} failed, "
            f"{counts['not seen']} not exercised by this client"
        )
        lines.append("CONFORMANT" if self.ok else "NOT CONFORMANT")
        return "\n".join(lines)


CHECKS = {
    "connect": "connects to the sites' listener with its own account (user = credit code)",
    "presence": "publishes presence {online: true, ts} (QoS 1, retained) right after connecting",
    "valid": "every uplink passes the service's checks (topic, JSON, schema, timestamps)",
    "qos": "events, commitments, presence and acks are published with QoS 1",
    "event_ids": "event ids are never reused for a different event (canonical comparison)",
    "events": "reports operation events (informative: how many were seen and accepted)",
    "ack": "acknowledges a guidance that asks for it on …/ack with its id",
    "heartbeat": "a sign of life (heartbeat) at least every {limit:g} s while connected",
    "planned_stop": "on SIGTERM: {online: false, planned: true, ts} before disconnecting, exit 0",
    "reconnect": "after a restart: presence online again",
    "will": 'last will {"online": false} (retained, no planned) published when it dies',
}


class Watcher:
    """The service's view: the enterprise's uplinks (retain flag as published)."""

    def __init__(self, broker: BrokerProcess, password: str, prefix: str, ent: str) -> None:
        """Connect to the service listener and subscribe to the enterprise's topics."""
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self.topics = Topics(prefix)
        self.ent = ent
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"{SERVICE_USER}-{uuid.uuid4().hex[:6]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.username_pw_set(SERVICE_USER, password)
        self.client.on_message = self._on_message
        assert broker.service_port is not None
        self.client.connect(broker.host, broker.service_port, keepalive=30)
        self.client.loop_start()
        options = SubscribeOptions(qos=1, retainAsPublished=True)
        self.client.subscribe(f"{prefix}/ent/{ent}/+", options=options)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        kind = msg.topic.rsplit("/", 1)[-1]
        if kind not in {u.value for u in Uplink}:
            return
        item = Seen(
            kind,
            msg.topic,
            bytes(msg.payload),
            msg.qos,
            bool(msg.retain),
            time.monotonic(),
            datetime.now(UTC),
        )
        with self._lock:
            self.seen.append(item)

    def snapshot(self) -> list[Seen]:
        """What was seen so far."""
        with self._lock:
            return list(self.seen)

    def wait(self, pred: Callable[[Seen], bool], since: float, timeout: float) -> Seen | None:
        """The first uplink after `since` matching `pred`, waiting up to `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            for s in self.snapshot():
                if s.at >= since and pred(s):
                    return s
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    def publish(self, kind: str, body: dict[str, Any]) -> None:
        """A downlink to the site (QoS 1)."""
        topic = f"{self.topics.prefix}/ent/{self.ent}/{kind}"
        self.client.publish(topic, json.dumps(body, ensure_ascii=False), qos=1).wait_for_publish(5)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def _presence(s: Seen) -> dict[str, Any] | None:
    if s.kind != "presence":
        return None
    try:
        body = json.loads(s.payload)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _online(s: Seen) -> bool:
    p = _presence(s)
    return p is not None and p.get("online") is True


def run(options: Options, *, out: Callable[[str], None] = print) -> Report:
    """Run the scenario and return the checklist (printing progress through `out`)."""
    report = Report(
        {
            k: Check(t.replace("{limit:g}", f"{options.heartbeat_limit_s:g}"))
            for k, t in CHECKS.items()
        }
    )
    root = options.workdir or Path(tempfile.mkdtemp(prefix="sw-conformance-"))
    ent = options.enterprise
    written = generate(
        root / "creds",
        prefix=options.prefix,
        service_user=SERVICE_USER,
        service_password=None,
        enterprises=[ent],
        iterations=101,
    )
    passwords = read_passwords(written)
    for d in (root, root / "creds"):  # the broker may run as its own user: let it in
        d.chmod(0o755)
    broker = start_for_accounts(root / "broker", written)
    watcher = Watcher(broker, passwords[SERVICE_USER], options.prefix, ent)
    values = {
        "host": broker.host,
        "port": str(broker.port),
        "url": f"mqtt://{broker.host}:{broker.port}",
        "username": ent,
        "password": passwords[ent],
        "prefix": options.prefix,
        "ent": ent,
    }
    try:
        _scenario(options, report, watcher, values, out)
    finally:
        watcher.close()
        broker.stop()
        if options.workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    report.seen = watcher.snapshot()
    _judge_messages(report, options)
    return report


def _start(options: Options, values: dict[str, str]) -> subprocess.Popen[bytes]:
    argv = [part.format(**values) for part in shlex.split(options.client)]
    env = dict(os.environ)
    env.update(
        {
            "SITE_MQTT_URL": values["url"],
            "SITE_MQTT_USERNAME": values["username"],
            "SITE_MQTT_PASSWORD": values["password"],
            "SITE_TOPIC_PREFIX": values["prefix"],
            "SITE_ENTERPRISE": values["ent"],
            "SWAGENT_MQTT_URL": values["url"],
            "SWAGENT_MQTT_USERNAME": values["username"],
            "SWAGENT_MQTT_PASSWORD": values["password"],
            "SWAGENT_TOPIC_PREFIX": values["prefix"],
        }
    )
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def _stop(proc: subprocess.Popen[bytes], sig: int, timeout: float) -> int | None:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def _scenario(
    options: Options,
    report: Report,
    watcher: Watcher,
    values: dict[str, str],
    out: Callable[[str], None],
) -> None:
    c = report.checks
    out(f"starting the client: {options.client}")
    started = time.monotonic()
    proc = _start(options, values)
    try:
        first = watcher.wait(lambda s: True, started, options.connect_timeout_s)
        if first is None:
            c["connect"].failed(
                f"nothing published within {options.connect_timeout_s:g} s "
                f"(exit code {proc.poll()})"
            )
            return
        c["connect"].passed()
        hello = watcher.wait(lambda s: s.kind == "presence", started, options.connect_timeout_s)
        _judge_hello(c["presence"], hello)
        out("sending a guidance that asks for an ack")
        ref = f"G{900000 + int(time.time()) % 100000}"
        sent = time.monotonic()
        watcher.publish(
            "guidance",
            {
                "id": ref,
                "ts": datetime.now(UTC).isoformat(),
                "from": "conformance",
                "text": "一致性测试：请确认收到",
                "requires_ack": True,
            },
        )
        ack = watcher.wait(
            lambda s: s.kind == "ack" and _ref(s) == ref, sent, options.ack_timeout_s
        )
        if ack is None:
            c["ack"].failed(f"no ack with ref {ref!r} on …/ack within {options.ack_timeout_s:g} s")
        else:
            c["ack"].passed(f"acked after {ack.at - sent:.1f} s")
        out(f"watching for {options.observe_s:g} s")
        watch_from = time.monotonic()
        time.sleep(max(0.0, options.observe_s - (watch_from - started)))
        stop_at = time.monotonic()
        _judge_heartbeat(c["heartbeat"], watcher.snapshot(), started, stop_at, options)
        out("SIGTERM: a planned stop")
        code = _stop(proc, signal.SIGTERM, options.stop_timeout_s)
        planned = watcher.wait(_planned, stop_at, 1.0)
        if planned is None:
            c["planned_stop"].failed(
                'no {"online": false, "planned": true, "ts": …} on …/presence after SIGTERM'
            )
        elif code != 0:
            c["planned_stop"].failed(f"planned stop published, but the exit code was {code}")
        else:
            c["planned_stop"].passed()
        out("starting the client again, then SIGKILL: the last will")
        again = time.monotonic()
        proc = _start(options, values)
        back = watcher.wait(_online, again, options.connect_timeout_s)
        if back is None:
            c["reconnect"].failed("no presence online after the restart")
            return
        c["reconnect"].passed()
        time.sleep(0.5)
        killed = time.monotonic()
        _stop(proc, signal.SIGKILL, options.stop_timeout_s)
        will = watcher.wait(lambda s: _presence(s) is not None and not _online(s), killed, 5.0)
        if will is None:
            c["will"].failed("nothing on …/presence after the client died: set the last will")
        elif _presence(will) != {"online": False} or not will.retain or will.qos != 1:
            c["will"].failed(
                f"the will was {will.payload[:200].decode(errors='replace')} "
                f"(retain {will.retain}, QoS {will.qos}); it must be exactly "
                '{"online": false}, retained, QoS 1'
            )
        else:
            c["will"].passed()
    finally:
        if proc.poll() is None:
            _stop(proc, signal.SIGKILL, options.stop_timeout_s)


def _ref(s: Seen) -> str | None:
    try:
        body = json.loads(s.payload)
    except ValueError:
        return None
    return body.get("ref") if isinstance(body, dict) else None


def _planned(s: Seen) -> bool:
    p = _presence(s)
    return p is not None and p.get("online") is False and p.get("planned") is True and "ts" in p


def _judge_hello(check_: Check, hello: Seen | None) -> None:
    if hello is None:
        check_.failed("no message on …/presence after connecting")
        return
    p = _presence(hello)
    problems = []
    if p is None or p.get("online") is not True:
        problems.append(f"payload {hello.payload[:200].decode(errors='replace')}")
    elif not isinstance(p.get("ts"), str):
        problems.append('no "ts" (a retained presence without ts does not count as a sign of life)')
    if hello.qos != 1:
        problems.append(f"QoS {hello.qos}")
    if not hello.retain:
        problems.append("not retained")
    if problems:
        check_.failed("; ".join(problems))
    else:
        check_.passed()


def _judge_heartbeat(
    check_: Check, seen: list[Seen], started: float, stop_at: float, options: Options
) -> None:
    times = sorted(s.at for s in seen if started <= s.at <= stop_at and not _is_will(s))
    if not times:
        check_.failed("no message at all while connected")
        return
    marks = [*times, stop_at]
    gaps = [b - a for a, b in itertools.pairwise(marks)]
    worst = max(gaps) if gaps else 0.0
    if worst > options.heartbeat_limit_s:
        check_.failed(
            f"silent for {worst:.0f} s while connected (limit {options.heartbeat_limit_s:g} s): "
            "keep-alive does not count, publish presence with ts"
        )
    elif stop_at - times[0] < options.heartbeat_limit_s:
        check_.passed(f"watched {stop_at - times[0]:.0f} s only, shorter than the limit")
    else:
        check_.passed(f"longest silence {worst:.0f} s")


def _is_will(s: Seen) -> bool:
    return _presence(s) == {"online": False}


def _judge_messages(report: Report, options: Options) -> None:
    c = report.checks
    policy = load_monitoring_policy(DEFAULT_POLICY_DIR)
    limits = Limits(
        policy.max_payload_bytes,
        policy.max_future_skew,
        policy.planning_horizon,
        policy.max_permit,
        policy.max_abs_value,
    )
    topics = Topics(options.prefix)
    refused: list[str] = []
    low_qos: list[str] = []
    digests: dict[str, bytes] = {}
    reused: list[str] = []
    events = 0
    for n, s in enumerate(report.seen):
        verdict = check(
            Inbound(s.topic, s.payload, s.qos, n, s.retain, 0, 0.0), topics, limits, s.wall
        )
        if isinstance(verdict, Refused):
            refused.append(
                f"{s.kind} {s.payload[:80].decode(errors='replace')}: {verdict.code.value} "
                f"({verdict.reason[:160]})"
            )
        elif isinstance(verdict, Accepted) and isinstance(verdict.body, EventBase):
            events += 1
            digest = canonical_digest(verdict.body)
            old = digests.setdefault(verdict.body.event_id, digest)
            if old != digest:
                reused.append(verdict.body.event_id)
        if s.kind in QOS1_KINDS and s.qos != 1:
            low_qos.append(f"{s.kind} with QoS {s.qos}")
    if not report.seen:
        return
    if refused:
        c["valid"].failed(f"{len(refused)} refused, e.g. " + " | ".join(refused[:3]))
    else:
        c["valid"].passed(f"{len(report.seen)} messages")
    if low_qos:
        c["qos"].failed(", ".join(sorted(set(low_qos))))
    else:
        c["qos"].passed()
    if reused:
        c["event_ids"].failed(f"reused for a different event: {', '.join(sorted(set(reused)))}")
    elif events:
        c["event_ids"].passed()
    if events:
        c["events"].passed(f"{events} accepted")
