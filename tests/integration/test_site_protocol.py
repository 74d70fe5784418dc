"""Issue 17's field traps, against Mosquitto configured as in production (per-enterprise accounts
and ACL from the project's helpers) and the real ingest and presence watchdog:

- a retry that rebuilt its JSON is the same event (stored once, no refusal); a changed field
  under the same id is still refused (docs/protocol.md, "Event ids and retries");
- a connected site that sends only MQTT keep-alive is offline after the presence timeout (the
  documented heartbeat rule), one that heartbeats stays online;
- a planned stop (offline said before disconnecting, also with MQTT 5 reason 0x04) raises no
  alarm, a crash (the will alone) does.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from config.policy import load_policies
from config.settings import Settings
from domain.clock import utcnow
from monitor.broker import BrokerProcess
from monitor.video.agent import AgentConfig, SiteAgent, run_agent
from scheduler import jobs_monitor
from scheduler.context import JobContext, set_context
from tests.integration.monitor_support import (
    Device,
    rows,
    running_ingest,
    scalar,
    seed,
    ts,
    wait_for,
)
from tests.integration.site_support import SiteBroker, site_broker


@pytest.fixture
async def site(settings: Settings, pool) -> Any:
    codes = await seed(pool, 2)
    with site_broker(settings, codes) as sb:
        yield sb, codes


@pytest.fixture
def watchdog(settings: Settings, pool) -> Iterator[None]:
    ctx = JobContext(settings=settings, pool=pool, policies=load_policies(settings.policy_dir))
    set_context(ctx)
    yield
    set_context(None)


async def _watchdog_at(monkeypatch: pytest.MonkeyPatch, later_s: float) -> None:
    """Run the presence watchdog as it would run `later_s` seconds from now."""
    when = utcnow() + timedelta(seconds=later_s)
    monkeypatch.setattr(jobs_monitor, "utcnow", lambda: when)
    await jobs_monitor.presence_watchdog()
    monkeypatch.undo()


async def _offline_alarms(pool, ent: str) -> int:
    return int(
        await scalar(
            pool,
            "SELECT count(*) FROM alarms WHERE enterprise_id = %(e)s AND rule = 'offline'"
            " AND NOT cleared",
            {"e": ent},
        )
    )


async def test_a_rebuilt_retry_is_the_same_event_and_a_changed_one_is_refused(
    site: tuple[SiteBroker, list[str]], pool
) -> None:
    sb, (ent, _) = site
    dev = sb.device(ent)
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    first = (
        f'{{"event_id":"gt-1","ts":"{when.isoformat()}","type":"gas_test","op_id":"HW-1","o2_pct":20.5,'
        '"lel_pct":0,"gas":"CH4","analyst":"张工","toxic_ppm":{"H2S":1,"CO":2}}'
    )
    # The same event as a gateway that rebuilt it would send: other key order, spacing, escapes,
    # number forms, offset, an unknown field added and an optional field sent with its default.
    rebuilt = json.dumps(
        {
            "analyst": "张工",
            "toxic_ppm": {"CO": 2.0, "H2S": 1.0},
            "type": "gas_test",
            "gas": "CH4",
            "lel_pct": 0.0,
            "o2_pct": 20.5,
            "op_id": "HW-1",
            "ts": when.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "event_id": "gt-1",
            "x_gateway_retry": 3,
            "seq": None,
        },
        indent=2,
        ensure_ascii=True,
    )
    changed = first.replace('"o2_pct":20.5', '"o2_pct":19.0')
    try:
        async with running_ingest(sb.service, pool):
            dev.send("event", first)
            dev.send("event", rebuilt)
            dev.send("event", first)  # a plain redelivery, as before
            dev.send("event", changed)

            async def answered() -> bool:
                return bool(dev.of_kind("reject"))

            await wait_for(answered, what="the refusal of the changed event")
            assert await scalar(pool, "SELECT count(*) FROM events") == 1
            assert await scalar(pool, "SELECT payload->>'o2_pct' FROM events") == "20.5"
            rejects = dev.of_kind("reject")
            assert [(r["code"], r["ref"]) for r in rejects] == [("event_id_reused", "gt-1")]
            stored = await rows(pool, "SELECT code, ref FROM rejected_messages")
            assert stored == [("event_id_reused", "gt-1")]
    finally:
        dev.close()


async def test_keys_stored_before_the_canonical_rule_still_take_their_redelivery(
    site: tuple[SiteBroker, list[str]], pool
) -> None:
    """An event key stored by an older version holds the digest of the bytes: resending exactly
    those bytes is still a redelivery after the upgrade."""
    sb, (ent, _) = site
    body = (
        f'{{"event_id": "old-1", "ts": "{ts(-60)}", "type": "shutdown", "scope": "plant",'
        f' "reason": "检修"}}'
    ).encode()
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO event_keys (enterprise_id, event_id, digest, ts)"
            " VALUES (%(e)s, 'old-1', %(d)s, now())",
            {"e": ent, "d": hashlib.blake2b(body, digest_size=16).digest()},
        )
    dev = sb.device(ent)
    try:
        async with running_ingest(sb.service, pool) as ingest:
            dev.send("event", body)
            dev.send("event", {"event_id": "after", "ts": ts(), "type": "resume"})

            async def done() -> bool:
                return ingest.stored_events >= 1

            await wait_for(done, what="the following event")
            assert not dev.of_kind("reject")
            assert await scalar(pool, "SELECT count(*) FROM rejected_messages") == 0
    finally:
        dev.close()


async def test_keep_alive_alone_is_offline_as_documented_and_a_heartbeat_stays_online(
    site: tuple[SiteBroker, list[str]], pool, watchdog: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb, (quiet, beating) = site
    timeout = sb.service.presence_timeout_s
    dev = sb.device(quiet)
    stop = asyncio.Event()
    agent = asyncio.create_task(_agent(sb, beating, stop, heartbeat_s=1.0))
    try:
        async with running_ingest(sb.service, pool):
            dev.send("presence", {"online": True, "ts": ts()}, retain=True)

            async def heard() -> bool:
                seen = await rows(
                    pool,
                    "SELECT enterprise_id FROM enterprise_status"
                    " WHERE presence_online AND last_activity_at IS NOT NULL",
                )
                return {r[0] for r in seen} == {quiet, beating}

            await wait_for(heard, timeout=20, what="both sites online")
            # Still connected, nothing but PINGREQ for 3 minutes: the documented rule says
            # offline (orange alarm) once the presence timeout has passed.
            assert dev.client.is_connected()
            await _watchdog_at(monkeypatch, 180)
            assert timeout < 180
            assert await _offline_alarms(pool, quiet) == 1
            # The agent heartbeats every second: its last activity keeps moving.
            first = await _last_activity(pool, beating)

            async def moved() -> bool:
                last = await _last_activity(pool, beating)
                return last is not None and first is not None and last > first

            await wait_for(moved, timeout=20, what="a heartbeat")
            await jobs_monitor.presence_watchdog()
            assert await _offline_alarms(pool, beating) == 0
    finally:
        stop.set()
        await asyncio.wait_for(agent, 15)
        dev.close()


async def test_a_planned_stop_raises_no_alarm_and_a_crash_does(
    site: tuple[SiteBroker, list[str]], pool, watchdog: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb, (planned, crashed) = site
    async with running_ingest(sb.service, pool):
        # The reference client: presence, then a planned stop when told to stop.
        stop = asyncio.Event()
        agent = asyncio.create_task(_agent(sb, planned, stop, heartbeat_s=60.0))

        async def online() -> bool:
            return bool(
                await scalar(
                    pool,
                    "SELECT presence_online FROM enterprise_status WHERE enterprise_id = %(e)s",
                    {"e": planned},
                )
            )

        await wait_for(online, timeout=20, what="the agent online")
        stop.set()
        await asyncio.wait_for(agent, 15)

        async def stopped() -> bool:
            return bool(
                await scalar(
                    pool,
                    "SELECT presence_planned_stop AND NOT presence_online"
                    " FROM enterprise_status WHERE enterprise_id = %(e)s",
                    {"e": planned},
                )
            )

        await wait_for(stopped, what="the planned stop")
        # A raw MQTT 5 site: will set, online, a planned stop, DISCONNECT 0x04 (the broker
        # then publishes the will too) — and a second one that just dies (will only).
        polite = _raw_site(sb, crashed, planned_stop=True)
        polite.disconnect(reasoncode=ReasonCode(PacketTypes.DISCONNECT, identifier=4))
        polite.loop_stop()

        async def will_arrived() -> bool:
            got = await rows(
                pool,
                "SELECT presence_online, presence_planned_stop FROM enterprise_status"
                " WHERE enterprise_id = %(e)s",
                {"e": crashed},
            )
            return got == [(False, True)]

        await wait_for(will_arrived, what="the planned stop of the raw site")
        await _watchdog_at(monkeypatch, 600)
        assert await _offline_alarms(pool, planned) == 0
        assert await _offline_alarms(pool, crashed) == 0
        # The same raw site back online, then gone without a word: the will alone.
        rude = _raw_site(sb, crashed, planned_stop=False)
        await wait_for(online_of(pool, crashed), timeout=20, what="the raw site back")
        rude.disconnect(reasoncode=ReasonCode(PacketTypes.DISCONNECT, identifier=4))
        rude.loop_stop()

        async def offline() -> bool:
            return not await online_of(pool, crashed)()

        await wait_for(offline, what="the will")
        await _watchdog_at(monkeypatch, 600)
        assert await _offline_alarms(pool, crashed) == 1
        assert await _offline_alarms(pool, planned) == 0


def online_of(pool, ent: str) -> Any:
    async def check() -> bool:
        return bool(
            await scalar(
                pool,
                "SELECT presence_online FROM enterprise_status WHERE enterprise_id = %(e)s",
                {"e": ent},
            )
        )

    return check


async def _last_activity(pool, ent: str) -> datetime | None:
    value = await scalar(
        pool,
        "SELECT last_activity_at FROM enterprise_status WHERE enterprise_id = %(e)s",
        {"e": ent},
    )
    return value if isinstance(value, datetime) else None


async def _agent(sb: SiteBroker, ent: str, stop: asyncio.Event, *, heartbeat_s: float) -> SiteAgent:
    config = AgentConfig(
        enterprise=ent,
        topic_prefix=sb.service.mqtt_topic_prefix,
        talkback="discard",
        heartbeat_s=heartbeat_s,
    )
    options = sb.agent_options(ent)
    return await run_agent(config, options, stop, presence=True)


def _raw_site(sb: SiteBroker, ent: str, *, planned_stop: bool) -> mqtt.Client:
    """A site written from docs/protocol.md alone with paho (MQTT 5, will, presence with ts)."""
    topic = f"{sb.service.mqtt_topic_prefix}/ent/{ent}/presence"
    c = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"site-{ent}",
        protocol=mqtt.MQTTv5,
    )
    c.username_pw_set(ent, sb.passwords[ent])
    c.will_set(topic, b'{"online": false}', qos=1, retain=True)
    c.connect(sb.broker.host, sb.broker.port, keepalive=30)
    c.loop_start()
    deadline = time.monotonic() + 10
    while not c.is_connected() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert c.is_connected()
    c.publish(topic, json.dumps({"online": True, "ts": ts()}), qos=1, retain=True).wait_for_publish(
        5
    )
    if planned_stop:
        body = {"online": False, "planned": True, "ts": ts()}
        c.publish(topic, json.dumps(body), qos=1, retain=True).wait_for_publish(5)
    return c


async def test_msg_id_is_echoed_in_rejects_of_telemetry_and_commitments(
    site: tuple[SiteBroker, list[str]], pool
) -> None:
    sb, (ent, _) = site
    dev = sb.device(ent)
    try:
        async with running_ingest(sb.service, pool):
            dev.send(
                "telemetry",
                {"msg_id": "tm-7", "ts": ts(), "points": [{"tag": "T1", "value": 1e15}]},
            )
            dev.send(
                "commitment",
                {
                    "msg_id": "cm-3",
                    "date": "2026-03-01",
                    "units": {"total": 2, "running": 2, "stopped": 1},
                    "risk_level": 3,
                    "committed_by": "张三",
                    "committed_at": ts(),
                },
            )
            dev.send("telemetry", {"ts": ts(), "points": []})  # without msg_id: ref null

            async def three() -> bool:
                return len(dev.of_kind("reject")) >= 3

            await wait_for(three, what="three rejects")
            got = sorted((r["code"], str(r["ref"])) for r in dev.of_kind("reject"))
            assert got == [
                ("schema_invalid", "None"),
                ("schema_invalid", "cm-3"),
                ("value_out_of_range", "tm-7"),
            ]
    finally:
        dev.close()


async def test_what_a_site_sees_for_another_sites_or_an_invalid_code(
    site: tuple[SiteBroker, list[str]], pool
) -> None:
    """The ACL drops a publish outside the site's own subtree before the service sees it:
    MQTT 5 PUBACK carries reason 0x87 (not authorised), MQTT 3.1.1 gets a plain PUBACK."""
    sb, (ent, other) = site
    prefix = sb.service.mqtt_topic_prefix
    foreign = f"{prefix}/ent/{other}/event"
    invalid = f"{prefix}/ent/913301020000000018/event"  # wrong check character
    body = json.dumps({"event_id": "f-1", "ts": ts(), "type": "resume"}).encode()
    async with running_ingest(sb.service, pool) as ingest:
        v5 = _puback_reasons(sb, ent, mqtt.MQTTv5, [foreign, invalid], body)
        v311 = _puback_reasons(sb, ent, mqtt.MQTTv311, [foreign, invalid], body)
        assert v5 == [135, 135], v5  # 0x87 Not authorized
        assert v311 == [0, 0], v311  # 3.1.1 has no reason in PUBACK: silently dropped
        dev = sb.device(ent)
        try:
            dev.send("event", {"event_id": "own", "ts": ts(), "type": "resume"})

            async def stored() -> bool:
                return ingest.stored_events >= 1

            await wait_for(stored, what="the site's own event")
            assert await scalar(pool, "SELECT count(*) FROM rejected_messages") == 0
            assert await rows(pool, "SELECT event_id FROM events") == [("own",)]
        finally:
            dev.close()


def _puback_reasons(
    sb: SiteBroker, ent: str, protocol: int, topics: list[str], body: bytes
) -> list[int]:
    got: dict[int, int] = {}

    def on_publish(_c: Any, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        got[mid] = int(getattr(reason, "value", reason))

    c = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"site-{ent}",
        protocol=protocol,  # type: ignore[arg-type]
    )
    c.username_pw_set(ent, sb.passwords[ent])
    c.on_publish = on_publish
    c.connect(sb.broker.host, sb.broker.port, keepalive=30)
    c.loop_start()
    try:
        mids = []
        for topic in topics:
            info = c.publish(topic, body, qos=1)
            info.wait_for_publish(5)
            mids.append(info.mid)
        deadline = time.monotonic() + 5
        while len(got) < len(mids) and time.monotonic() < deadline:
            time.sleep(0.01)
        return [got[m] for m in mids]
    finally:
        c.disconnect()
        c.loop_stop()


async def test_the_reference_clients_outbox_resends_after_a_crash_with_the_same_ids(
    settings: Settings, pool, tmp_path
) -> None:
    """An event the agent wrote to its outbox and published, but crashed before the PUBACK:
    the next start sends it again with the same id and ts; the service stores it once."""
    from monitor.site_outbox import Outbox

    (ent,) = await seed(pool, 1)
    sandbox = settings.model_copy(update={"mqtt_receipts": True})
    path = tmp_path / "outbox.jsonl"
    crashed = Outbox(path)
    first = crashed.add({"type": "maintenance_start", "maint_id": "M-1", "scope": "plant"})
    with site_broker(sandbox, [ent]) as sb:
        # the service's view of the receipts (one session per site account: the agent and a
        # second client with the same account would take each other's session over)
        watch = Device(
            sb.service,
            ent,
            port=sb.broker.service_port,
            username=sb.service.mqtt_username,
            password=sb.service.mqtt_password,
        )
        try:
            async with running_ingest(sb.service, pool):
                dev = sb.device(ent, subscribe=False)
                dev.send("event", dict(first))  # it reached the service before the crash
                dev.close()

                async def stored() -> bool:
                    return [r["verdict"] for r in watch.of_kind("receipt")] == ["stored"]

                await wait_for(stored, what="the first copy stored")
                again = Outbox(path)  # the restarted client reads its outbox
                assert again.pending() == [first]
                stop = asyncio.Event()
                stop.set()  # publish what is pending, then stop (a planned stop)
                config = AgentConfig(
                    enterprise=ent, topic_prefix=sb.service.mqtt_topic_prefix, talkback="discard"
                )
                options = sb.agent_options(ent)
                await run_agent(config, options, stop, outbox=again, presence=True)
                assert again.pending() == []
                assert Outbox(path).pending() == []

                async def judged() -> bool:
                    refs = [r["ref"] for r in watch.of_kind("receipt")]
                    return refs.count(first["event_id"]) == 2

                await wait_for(judged, what="the resent copy judged")
                events = [r for r in watch.of_kind("receipt") if r["ref"] == first["event_id"]]
                assert [r["verdict"] for r in events] == ["stored", "duplicate"]
                assert not watch.of_kind("reject")
                assert await scalar(pool, "SELECT count(*) FROM events") == 1
        finally:
            watch.close()


async def test_the_reference_client_says_it_is_online_after_every_reconnection(
    site: tuple[SiteBroker, list[str]], pool
) -> None:
    """The broker restarts under a connected agent (heartbeat 60 s): after paho reconnects, the
    agent publishes presence with a new ts at once, not at its next heartbeat."""
    sb, (ent, _) = site
    stop = asyncio.Event()
    agent = asyncio.create_task(_agent(sb, ent, stop, heartbeat_s=60.0))
    try:
        async with running_ingest(sb.service, pool):
            await wait_for(online_of(pool, ent), timeout=20, what="the agent online")
            before = await scalar(
                pool,
                "SELECT presence_at FROM enterprise_status WHERE enterprise_id = %(e)s",
                {"e": ent},
            )
            restarted = utcnow()
            _restart(sb.broker)

            async def announced_again() -> bool:
                at = await scalar(
                    pool,
                    "SELECT presence_at FROM enterprise_status WHERE enterprise_id = %(e)s",
                    {"e": ent},
                )
                return at is not None and at > before and at >= restarted - timedelta(seconds=1)

            await wait_for(announced_again, timeout=45, what="presence after the reconnection")
    finally:
        stop.set()
        await asyncio.wait_for(agent, 15)


def _restart(broker: BrokerProcess) -> None:
    """Stop the broker and start it again on the same ports with the same configuration."""
    broker.process.terminate()
    broker.process.wait(10)
    if broker.process.stderr is not None:
        broker.process.stderr.close()
    broker.process = subprocess.Popen(
        [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(broker.config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
