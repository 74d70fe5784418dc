"""A mixed event stream for many enterprises delivered out of order, and the state it must leave:
the state computed by applying each enterprise's events in event-time order in one process."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from psycopg_pool import AsyncConnectionPool

from config.policy_monitoring import MonitoringPolicy
from domain import replay as rp
from domain.alarms import Rule
from domain.monitoring import AlarmKey, AlarmRaise, EnterpriseId
from domain.special_ops import SpecialOp
from domain.status import EnterpriseStatus
from monitor.ordering import parse_logged
from monitor.topics import Topics
from storage import enterprise_status
from storage import special_ops as so_store
from tests.integration.monitor_support import wait_for

#: Rules the comparison looks at (the ones events raise).
COMPARED_RULES = sorted(
    {*rp.EVENT_RULES, Rule.PERMIT_EXPIRED, Rule.GAS_TEST_STALE, Rule.TRIAL_OVERRUN}
)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat()


@dataclass
class Script:
    """One enterprise's events in event-time order (JSON payloads)."""

    ent: str
    events: list[dict[str, Any]] = field(default_factory=list)


def make_script(ent: str, rng: random.Random, start: datetime, n: int = 12) -> Script:
    """A plausible life of a site: shutdowns and restart requests, maintenance, special
    operations with gas tests and interruptions, trial production; sometimes a wrong step."""
    script = Script(ent)
    t = start
    ops: list[str] = []
    maint: list[str] = []
    k = 0

    def add(type_: str, **fields: Any) -> None:
        nonlocal t, k
        k += 1
        body: dict[str, Any] = {"event_id": f"{ent[-6:]}-{k:03d}", "ts": _iso(t), "type": type_}
        if rng.random() < 0.5:
            body["seq"] = k
        body.update(fields)
        script.events.append(body)
        t += timedelta(seconds=rng.choice([0, 1, 30, 60, 90]))

    while len(script.events) < n:
        roll = rng.random()
        if roll < 0.18:
            add("shutdown", scope="plant", reason="检修停车")
            if rng.random() < 0.6:
                check = [{"item": "安全设施", "ok": True}]
                add("resume_request", planned_at=_iso(t + timedelta(hours=2)), self_check=check)
            if rng.random() < 0.3:
                add("resume")
        elif roll < 0.35:
            m = f"M{k}"
            maint.append(m)
            add("maintenance_start", maint_id=m, scope=rng.choice(["plant", "unit"]), units=["U1"])
        elif roll < 0.45 and maint:
            add("maintenance_end", maint_id=maint.pop(rng.randrange(len(maint))))
        elif roll < 0.62:
            op = f"OP{k}"
            ops.append(op)
            fields: dict[str, Any] = {
                "op_id": op,
                "op_type": "hot_work",
                "grade": "2",
                "permit_no": f"DH-{k}",
                "valid_from": _iso(t - timedelta(minutes=5)),
                "valid_to": _iso(t + timedelta(hours=rng.choice([4, 200]))),
                "location": "罐区",
                "guardian": rng.choice(["李四", ""]),
            }
            if rng.random() < 0.7:
                fields["gas_test"] = {
                    "o2_pct": 20.9,
                    "lel_pct": rng.choice([0.0, 30.0]),
                    "gas": "CH4",
                }
            add("special_op_start", **fields)
        elif roll < 0.80 and ops:
            op = rng.choice(ops)
            kind = rng.choice(["special_op_pause", "special_op_resume", "gas_test"])
            if kind == "gas_test":
                lel = rng.choice([0.0, 1.0, 40.0])
                add("gas_test", op_id=op, o2_pct=20.8, lel_pct=lel, gas="CH4")
            else:
                add(kind, op_id=op)
        elif roll < 0.88 and ops:
            add("special_op_end", op_id=ops.pop(rng.randrange(len(ops))))
        elif roll < 0.94:
            add("trial_start", trial_id=f"T{k}", planned_end=_iso(t + timedelta(days=60)))
        else:
            add("trial_end", trial_id=f"T{k}")
    return script


def arrival(
    scripts: list[Script], rng: random.Random
) -> tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, dict[str, Any]]]]:
    """(first wave, late wave): enterprises interleaved, neighbours swapped within each one's
    stream (out of order), and for a third of them one early event held back for the end."""
    waves: list[list[tuple[str, dict[str, Any]]]] = []
    late: list[tuple[str, dict[str, Any]]] = []
    for s in scripts:
        evs = list(s.events)
        for i in range(len(evs) - 1):
            if rng.random() < 0.25:
                evs[i], evs[i + 1] = evs[i + 1], evs[i]
        if rng.random() < 0.34 and len(evs) > 3:
            late.append((s.ent, evs.pop(rng.randrange(len(evs) // 2))))
        waves.append([(s.ent, e) for e in evs])
    first: list[tuple[str, dict[str, Any]]] = []
    longest = max(len(w) for w in waves)
    for i in range(longest):
        first.extend(w[i] for w in waves if i < len(w))
    rng.shuffle(late)
    return first, late


def publish_all(
    client_of: Callable[[str], mqtt.Client],
    topics: Topics,
    items: list[tuple[str, dict[str, Any]]],
    timeout: float,
) -> None:
    """Publish (enterprise, event) items at QoS 1 in order; assert the broker acked each."""
    infos = [
        client_of(ent).publish(
            topics.uplink(ent, "event"), json.dumps(body, ensure_ascii=False).encode(), qos=1
        )
        for ent, body in items
    ]
    deadline = time.monotonic() + timeout
    for info in infos:
        info.wait_for_publish(max(0.1, deadline - time.monotonic()))
        assert info.is_published(), "the broker did not acknowledge a publish"


async def drive(
    pool: AsyncConnectionPool,
    publish: Callable[[list[tuple[str, dict[str, Any]]]], None],
    scripts: list[Script],
) -> int:
    """Publish the first wave, wait until it is stored, then the late events; the total."""
    first, late = arrival(scripts, random.Random(7))
    assert late, "the stream must hold late events back"

    def stored_at_least(n: int) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            async with pool.connection() as conn:
                row = await (await conn.execute("SELECT count(*) FROM events")).fetchone()
            return row is not None and int(row[0]) >= n

        return check

    await asyncio.to_thread(publish, first)
    await wait_for(stored_at_least(len(first)), timeout=90, what="the first wave stored")
    await asyncio.to_thread(publish, late)
    total = len(first) + len(late)
    await wait_for(stored_at_least(total), timeout=90, what="every event stored")
    return total


class StreamPublisher:
    """One QoS 1 publisher (MQTT 5) for all enterprises; returns after every PUBACK."""

    def __init__(
        self,
        host: str,
        port: int,
        prefix: str,
        *,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.topics = Topics(prefix)
        self.c = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"stream-{time.monotonic_ns()}",
            protocol=mqtt.MQTTv5,
        )
        if username:
            self.c.username_pw_set(username, password)
        self.c.max_inflight_messages_set(200)
        self.c.connect(host, port)
        self.c.loop_start()

    def publish(self, items: list[tuple[str, dict[str, Any]]], timeout: float = 60) -> None:
        """Publish each (enterprise, event) in order; wait for every PUBACK."""
        publish_all(lambda _ent: self.c, self.topics, items, timeout)

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


@dataclass(frozen=True)
class Expected:
    """The state and live alarms of one enterprise after its events in event-time order."""

    status: EnterpriseStatus
    ops: dict[str, SpecialOp]
    alarms: set[AlarmKey]


def expected(
    script: Script, policy: MonitoringPolicy, rules: Sequence[str] = COMPARED_RULES
) -> Expected:
    """Apply the events in event-time order in this process."""
    policies = rp.Policies(policy.trial, policy.special_ops)
    done = rp.replay(
        rp.EnterpriseState.empty(EnterpriseId(script.ent)),
        [parse_logged(json.dumps(e)).ordered for e in script.events],
        policies,
    )
    last: dict[AlarmKey, bool] = {}
    for a in done.outcome.actions:
        last[a.key] = isinstance(a, AlarmRaise)
    live = {k for k, raised in last.items() if raised and k.rule in rules}
    return Expected(_norm(done.state.status), dict(done.state.ops), live)


def _norm(s: EnterpriseStatus) -> EnterpriseStatus:
    # Open maintenance jobs compare as a set already (domain.status_model.OpenJobs).
    return s


async def stored(
    pool: AsyncConnectionPool, script: Script, rules: Sequence[str] = COMPARED_RULES
) -> Expected:
    """The same three things as the database holds them."""
    ent = script.ent
    op_ids = sorted({str(e["op_id"]) for e in script.events if "op_id" in e})
    async with pool.connection() as conn:
        status = (await enterprise_status.lock_statuses(conn, ents=[ent], lock=False))[
            EnterpriseId(ent)
        ]
        ops = await so_store.lock_ops(conn, keys=[(ent, op) for op in op_ids])
        rows = await (
            await conn.execute(
                "SELECT rule, subject FROM alarms WHERE enterprise_id = %(e)s"
                " AND state <> 'closed' AND NOT cleared AND rule = ANY(%(r)s::text[])",
                {"e": ent, "r": list(rules)},
            )
        ).fetchall()
        await conn.rollback()
    return Expected(
        _norm(status),
        {op: o for (_, op), o in ops.items()},
        {AlarmKey(EnterpriseId(ent), str(r[0]), str(r[1])) for r in rows},
    )


def differences(want: Expected, got: Expected) -> list[str]:
    """Human-readable differences (empty when equal)."""
    out = []
    if want.status != got.status:
        out.append(f"status {got.status} != {want.status}")
    if want.ops != got.ops:
        out.append(f"ops {got.ops} != {want.ops}")
    if want.alarms != got.alarms:
        out.append(f"alarms {sorted(map(str, got.alarms))} != {sorted(map(str, want.alarms))}")
    return out


def scripts_for(ents: list[str], seed: int = 13) -> list[Script]:
    """A script per enterprise, starting within 10 minutes of three hours ago."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(hours=3)
    return [make_script(e, rng, start + timedelta(seconds=rng.randrange(600))) for e in ents]


async def check_final_state(
    pool: AsyncConnectionPool,
    policy: MonitoringPolicy,
    scripts: list[Script],
    rules: Sequence[str] = COMPARED_RULES,
) -> None:
    """0 lost, 0 duplicated; every enterprise in its event-time state; replays happened; every
    alarm they superseded is closed with the reason."""
    total = sum(len(s.events) for s in scripts)
    async with pool.connection() as conn:
        count = "SELECT count(*), count(DISTINCT (enterprise_id, event_id)) FROM events"
        n, distinct = (await (await conn.execute(count)).fetchall())[0]
        late_sql = "SELECT count(*) FROM events WHERE order_flag = 'late'"
        late = (await (await conn.execute(late_sql)).fetchall())[0][0]
        superseded = await (
            await conn.execute(
                "SELECT state, cause_category, action_taken FROM alarms"
                " WHERE closed_by = 'system:event-order'"
            )
        ).fetchall()
    assert (n, distinct) == (total, total), "events lost or stored twice"
    wrong = {}
    for s in scripts:
        diff = differences(expected(s, policy, rules), await stored(pool, s, rules))
        if diff:
            wrong[s.ent] = diff
    first = next(iter(wrong.items()), None)
    assert not wrong, f"{len(wrong)} enterprises differ from event-time order, e.g. {first}"
    assert late > 0, "no event arrived late: the stream did not exercise the replay"
    assert all(r[0] == "closed" and r[1] == rp.SUPERSEDED_CAUSE for r in superseded)
    assert all("迟到事件" in r[2] for r in superseded)
