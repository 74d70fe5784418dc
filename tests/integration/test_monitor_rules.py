"""Rules through the real ingest: special-operation alarms, thresholds, commitment cross-check,
status violations, presence clearing — each ends in the alarms table with the right severity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from config.policy import load_policies
from config.settings import Settings
from domain.special_ops_model import OpType
from domain.special_ops_oversight import managed_grade
from tests.integration.monitor_support import (
    Device,
    rows,
    running_ingest,
    scalar,
    seed,
    ts,
    wait_for,
)


def ev(event_id: str, type_: str, at: float = -60, **fields: object) -> dict[str, object]:
    return {"event_id": event_id, "ts": ts(at), "type": type_, **fields}


def hot_work(op_id: str, at: float, **kw: object) -> dict[str, object]:
    base: dict[str, Any] = {
        "op_id": op_id,
        "op_type": "hot_work",
        "grade": "1",
        "permit_no": f"DH-{op_id}",
        "valid_from": ts(at - 60),
        "valid_to": ts(at + 4 * 3600),
        "location": "储罐区",
        "guardian": "李四",
        "guardian_cert": "JH-0001",
        "camera": "CAM-1",
    }
    return ev(f"start-{op_id}", "special_op_start", at, **{**base, **kw})


async def alarms_of(pool, ent: str) -> dict[tuple[str, str], tuple[str, bool]]:
    found = await rows(
        pool,
        "SELECT rule, subject, severity, cleared FROM alarms WHERE enterprise_id = %(e)s",
        {"e": ent},
    )
    return {(r[0], r[1]): (r[2], r[3]) for r in found}


async def test_special_operation_alarms(settings: Settings, pool) -> None:
    ent, *_ = await seed(pool, 1)
    dev = Device(settings, ent)
    try:
        async with running_ingest(settings, pool):
            # guardian missing, no grade, permit far too long, no gas test → four alarms
            dev.send("event", hot_work("A", -600, guardian="", grade=None, valid_to=ts(20 * 3600)))
            # gas test before start, in limits: clean start; then out of limits, then a long pause
            dev.send(
                "event", ev("gB", "gas_test", -3700, op_id="B", o2_pct=20.9, lel_pct=0, gas="CH4")
            )
            dev.send("event", hot_work("B", -3650))
            dev.send(
                "event", ev("gB2", "gas_test", -3640, op_id="B", o2_pct=17.0, lel_pct=25, gas="CH4")
            )
            dev.send("event", ev("pB", "special_op_pause", -3630, op_id="B"))
            dev.send("event", ev("rB", "special_op_resume", -60, op_id="B"))
            dev.send("event", ev("eX", "special_op_end", -50, op_id="nope"))

            async def done() -> bool:
                return await scalar(pool, "SELECT count(*) FROM events") == 7

            await wait_for(done, what="events stored")
            got = await alarms_of(pool, ent)
            assert got[("guardian_missing", "op:A")][0] == "red"
            assert got[("grade_missing", "op:A")][0] == "blue"
            assert got[("permit_too_long", "op:A")][0] == "orange"
            assert got[("gas_test_missing", "op:A")][0] == "red"
            assert ("gas_test_missing", "op:B") not in got
            assert got[("gas_out_of_limits", "op:B")] == ("red", False)
            assert got[("retest_missing", "op:B")][0] == "red"
            assert got[("operation_unknown", "op:nope")][0] == "blue"
            evidence = await scalar(
                pool, "SELECT evidence FROM alarms WHERE rule = 'gas_out_of_limits'"
            )
            assert len(evidence["problems"]) == 2
            # a good analysis after the pause clears both the retest and the limits alarm
            dev.send(
                "event", ev("gB3", "gas_test", -30, op_id="B", o2_pct=20.9, lel_pct=0, gas="CH4")
            )

            async def cleared() -> bool:
                got = await alarms_of(pool, ent)
                return got[("retest_missing", "op:B")][1] and got[("gas_out_of_limits", "op:B")][1]

            await wait_for(cleared, what="alarms cleared by a good analysis")
            assert (
                await scalar(pool, "SELECT state FROM alarms WHERE rule = 'retest_missing'")
                == "active"
            )
    finally:
        dev.close()


async def test_thresholds_with_delay_and_deadband(settings: Settings, pool) -> None:
    ent, *_ = await seed(pool, 1)
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO telemetry_tags (enterprise_id, tag, unit, hh, h, l, ll, deadband, delay_s)"
            " VALUES (%(e)s, 'T101.TT', '°C', 120, 100, 10, 0, 2, 5)",
            {"e": ent},
        )
    dev = Device(settings, ent)
    base = datetime.fromisoformat(ts(-600))

    def reading(offset: float, value: float) -> dict[str, object]:
        at = (base + timedelta(seconds=offset)).isoformat()
        return {"ts": at, "points": [{"tag": "T101.TT", "value": value}, {"tag": "X", "value": 1}]}

    try:
        async with running_ingest(settings, pool):
            dev.send("telemetry", reading(0, 105))
            dev.send("telemetry", reading(3, 106))

            async def stored(n: int) -> bool:
                return await scalar(pool, "SELECT count(*) FROM telemetry") == n

            await wait_for(lambda: stored(4), what="readings stored")
            assert await alarms_of(pool, ent) == {}  # H not held for its 5 s delay yet
            dev.send("telemetry", reading(6, 107))
            await wait_for(lambda: stored(6), what="readings stored")
            assert (await alarms_of(pool, ent))[("telemetry_limit", "tag:T101.TT")] == (
                "yellow",
                False,
            )
            dev.send("telemetry", reading(7, 125))
            dev.send("telemetry", reading(13, 126))
            await wait_for(lambda: stored(10), what="readings stored")
            assert (await alarms_of(pool, ent))[("telemetry_limit", "tag:T101.TT")] == (
                "orange",
                False,
            )
            dev.send("telemetry", reading(14, 99))  # within the deadband of H: still alarmed
            await wait_for(lambda: stored(12), what="readings stored")
            assert (await alarms_of(pool, ent))[("telemetry_limit", "tag:T101.TT")][1] is False
            dev.send("telemetry", reading(15, 50))
            await wait_for(lambda: stored(14), what="readings stored")
            assert (await alarms_of(pool, ent))[("telemetry_limit", "tag:T101.TT")] == (
                "orange",
                True,
            )
            last = await rows(pool, "SELECT level, last_value FROM telemetry_tags")
            assert last == [("normal", 50.0)]
    finally:
        dev.close()


async def test_commitment_cross_check_and_status_violations(settings: Settings, pool) -> None:
    ent, *_ = await seed(pool, 1)
    dev = Device(settings, ent)
    today = datetime.fromisoformat(ts()).astimezone(settings.tz).date().isoformat()
    # 升级管理 (GB 30871-2022 5.1.1): at night, on a rest day or a holiday the 一级 permit is
    # managed as 特级, and the commitment must name the grade the work is managed at.
    ops_policy = load_policies(settings.policy_dir).monitoring.special_ops
    grade, _ = managed_grade(OpType.HOT_WORK, "1", datetime.now(UTC), ops_policy)
    commitment = {
        "date": today,
        "units": {"total": 4, "running": 4, "stopped": 0},
        "special_ops": [{"op_type": "hot_work", "grade": grade, "count": 1}],
        "maintenance": 0,
        "trial_production": False,
        "startup_shutdown": False,
        "risk_level": 3,
        "committed_by": "张总",
        "committed_at": ts(-5),
    }
    try:
        async with running_ingest(settings, pool):
            dev.send("commitment", commitment)
            dev.send("event", hot_work("C1", -1, gas_test={"o2_pct": 20.9}))

            async def stored() -> bool:
                return await scalar(pool, "SELECT count(*) FROM events") == 1

            await wait_for(stored, what="first start stored")
            assert ("commitment_mismatch", f"day:{today}") not in await alarms_of(pool, ent)
            dev.send("event", hot_work("C2", -1, gas_test={"o2_pct": 20.9}))
            dev.send(
                "event", ev("tr", "trial_start", -1, trial_id="TR1", planned_end=ts(5 * 86400))
            )
            dev.send("event", ev("go", "resume", -1))

            async def mismatch() -> bool:
                got = await alarms_of(pool, ent)  # the last event may come in a later batch
                return ("commitment_mismatch", f"day:{today}") in got and (
                    "transition_not_allowed",
                    "event:go",
                ) in got

            await wait_for(mismatch, what="commitment mismatch and the resume's alarm")
            got = await alarms_of(pool, ent)
            assert got[("commitment_mismatch", f"day:{today}")][0] == "yellow"
            assert got[("trial_period_invalid", "trial:TR1")][0] == "orange"
            assert got[("transition_not_allowed", "event:go")][0] == "blue"
            evidence = await scalar(
                pool, "SELECT evidence FROM alarms WHERE rule = 'commitment_mismatch'"
            )
            items = {m["item"] for m in evidence["mismatches"]}
            assert items == {"special_ops.hot_work", "trial_production", "startup_shutdown"}
            assert await scalar(pool, "SELECT risk_level FROM commitments") == 3
            # a corrected commitment clears the mismatch (the alarm still waits for a person)
            fixed = {
                **commitment,
                "special_ops": [{"op_type": "hot_work", "count": 2}],
                "trial_production": True,
                "startup_shutdown": True,
                "committed_at": ts(),
            }
            dev.send("commitment", fixed)

            async def fixed_ok() -> bool:
                return (await alarms_of(pool, ent))[("commitment_mismatch", f"day:{today}")][1]

            await wait_for(fixed_ok, what="mismatch cleared")
            # shutdown then resume without any request → red
            dev.send("event", ev("s1", "shutdown", 0, scope="unit", units=["U1"], reason="故障"))
            dev.send("event", ev("r1", "resume", 0))

            async def red() -> bool:
                return ("resume_without_approval", "status") in await alarms_of(pool, ent)

            await wait_for(red, what="resume without approval")
            assert (await alarms_of(pool, ent))[("resume_without_approval", "status")][0] == "red"
    finally:
        dev.close()


async def test_presence_and_activity(settings: Settings, pool) -> None:
    ent, *_ = await seed(pool, 1)
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO enterprise_status (enterprise_id, last_activity_at)"
            " VALUES (%(e)s, now() - interval '1 hour')",
            {"e": ent},
        )
        await conn.execute(
            "INSERT INTO alarms (enterprise_id, rule, subject, severity, message, raised_at,"
            " last_seen_at, ack_due_at)"
            " VALUES (%(e)s, 'offline', 'presence', 'orange', 'offline', now(), now(), now())",
            {"e": ent},
        )
    dev = Device(settings, ent)
    try:
        async with running_ingest(settings, pool):
            dev.send("presence", {"online": False})  # a last will: not activity

            async def presence_stored() -> bool:
                return (
                    await scalar(pool, "SELECT presence_at IS NOT NULL FROM enterprise_status")
                    is True
                )

            await wait_for(presence_stored, what="presence stored")
            assert await scalar(pool, "SELECT cleared FROM alarms") is False
            old = await scalar(
                pool,
                "SELECT now() - last_activity_at > interval '30 minutes' FROM enterprise_status",
            )
            assert old is True
            dev.send("presence", {"online": True}, retain=True)

            async def cleared() -> bool:
                return await scalar(pool, "SELECT cleared FROM alarms") is True

            await wait_for(cleared, what="offline alarm cleared by activity")
            assert await scalar(pool, "SELECT presence_online FROM enterprise_status") is True
    finally:
        dev.client.publish(
            dev.topics.uplink(ent, "presence"), b"", qos=1, retain=True
        ).wait_for_publish(5)
        dev.close()
