"""The monitoring watchdog jobs against the real database."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.policy import POLICY_FILES, load_policies
from config.settings import DEFAULT_POLICY_DIR, Settings
from scheduler import jobs_monitor
from scheduler.context import JobContext, set_context
from tests.integration.monitor_support import rows, scalar, seed


@pytest.fixture
def job_settings(settings: Settings, tmp_path: Path) -> Settings:
    """Settings whose commitment is due at midnight (so the check is due whenever tests run)."""
    policy = tmp_path / "policy"
    policy.mkdir()
    for name in POLICY_FILES:
        shutil.copy(DEFAULT_POLICY_DIR / name, policy / name)
    text = (policy / "monitoring.yaml").read_text(encoding="utf-8")
    (policy / "monitoring.yaml").write_text(text.replace('"09:00"', '"00:00"'), encoding="utf-8")
    return settings.model_copy(update={"policy_dir": policy, "presence_timeout_s": 60})


@pytest.fixture
def context(job_settings: Settings, pool) -> Iterator[JobContext]:
    ctx = JobContext(
        settings=job_settings, pool=pool, policies=load_policies(job_settings.policy_dir)
    )
    set_context(ctx)
    yield ctx
    set_context(None)


async def execute(pool, query: str, params: dict | None = None) -> None:
    async with pool.connection() as conn:
        await conn.execute(query, params or {})


async def test_escalation_raises_severity_then_reminds(context, pool) -> None:
    ent, *_ = await seed(pool, 1)
    await execute(
        pool,
        "INSERT INTO alarms (enterprise_id, rule, subject, severity, message, raised_at,"
        " last_seen_at, ack_due_at) VALUES (%(e)s, 'telemetry_stale', 'tag:T', 'blue', 'm',"
        " now() - interval '3 hours', now(), now() - interval '1 minute')",
        {"e": ent},
    )
    await jobs_monitor.escalate_alarms()
    got = await rows(pool, "SELECT severity, escalation_level, ack_due_at > now() FROM alarms")
    assert got == [("yellow", 1, True)]
    await execute(pool, "UPDATE alarms SET ack_due_at = now() - interval '1 second'")
    await jobs_monitor.escalate_alarms()  # telemetry_stale allows one escalation: a reminder
    got = await rows(pool, "SELECT severity, escalation_level, ack_due_at > now() FROM alarms")
    assert got == [("yellow", 1, True)]
    changes = [
        r[0] for r in await rows(pool, "SELECT payload->>'change' FROM live_changes ORDER BY id")
    ]
    assert changes == ["escalated", "reminder"]
    await execute(
        pool,
        "UPDATE alarms SET state = 'acknowledged', acked_by = 'd',"
        " ack_due_at = now() - interval '1 hour'",
    )
    await jobs_monitor.escalate_alarms()
    assert await scalar(pool, "SELECT escalation_level FROM alarms") == 1


async def test_presence_watchdog(context, pool) -> None:
    quiet, active = await seed(pool, 2)
    await execute(
        pool,
        "INSERT INTO enterprise_status (enterprise_id, presence_online, last_activity_at) VALUES"
        " (%(q)s, true, now() - interval '61 seconds'), (%(a)s, true, now())",
        {"q": quiet, "a": active},
    )
    await jobs_monitor.presence_watchdog()
    await jobs_monitor.presence_watchdog()  # idempotent
    got = await rows(pool, "SELECT enterprise_id, rule, severity, occurrences FROM alarms")
    assert got == [(quiet, "offline", "orange", 1)]
    await execute(pool, "UPDATE enterprise_status SET last_activity_at = now()")
    await jobs_monitor.presence_watchdog()
    assert await scalar(pool, "SELECT cleared FROM alarms") is True
    derived = await scalar(pool, "SELECT count(*) FROM live_changes WHERE kind = 'presence'")
    assert derived == 1


async def test_missing_commitment(context, pool) -> None:
    missing, done = await seed(pool, 2)
    await execute(
        pool,
        "INSERT INTO enterprise_status (enterprise_id) VALUES (%(m)s), (%(d)s)",
        {"m": missing, "d": done},
    )
    await execute(
        pool,
        "INSERT INTO commitments (enterprise_id, day, risk_level, committed_by, committed_at,"
        " payload)"
        " VALUES (%(d)s, (now() AT TIME ZONE 'Asia/Shanghai')::date, 2, 'x', now(), '{}')",
        {"d": done},
    )
    await jobs_monitor.commitment_check()
    await jobs_monitor.commitment_check()
    got = await rows(pool, "SELECT enterprise_id, rule, severity FROM alarms")
    assert got == [(missing, "commitment_missing", "yellow")]


async def test_stale_tags_permits_gas_and_trials(context, pool) -> None:
    ent, *_ = await seed(pool, 1)
    await execute(
        pool,
        "INSERT INTO telemetry_tags (enterprise_id, tag, stale_after_s, last_ts, registered_at)"
        " VALUES (%(e)s, 'OLD', 60, now() - interval '2 minutes', now() - interval '1 day'),"
        " (%(e)s, 'NEW', 60, now(), now() - interval '1 day'),"
        " (%(e)s, 'NEVER', NULL, NULL, now() - interval '301 seconds'),"
        # registered 37 s ago, never reported: its first report is not due yet (issue 17)
        " (%(e)s, 'JUST_REGISTERED', NULL, NULL, now() - interval '37 seconds')",
        {"e": ent},
    )
    await execute(
        pool,
        "INSERT INTO special_operations (enterprise_id, op_id, op_type, grade, permit_no,"
        " valid_from, valid_to, location, guardian, state, started_at, last_gas_test_at) VALUES"
        " (%(e)s, 'X', 'hot_work', '1', 'P1', now() - interval '9 hours',"
        "  now() - interval '1 hour',"
        "  'L', 'G', 'active', now() - interval '9 hours', now() - interval '1 minute'),"
        " (%(e)s, 'Y', 'hot_work', 'special', 'P2', now() - interval '1 hour',"
        "  now() + interval '1 hour', 'L', 'G', 'active', now() - interval '1 hour',"
        "  now() - interval '20 minutes')",
        {"e": ent},
    )
    await execute(
        pool,
        "INSERT INTO enterprise_status (enterprise_id, mode, trial_id, trial_planned_end)"
        " VALUES (%(e)s, 'trial_production', 'TR', now() - interval '1 day')",
        {"e": ent},
    )
    await jobs_monitor.stale_tags()
    await jobs_monitor.special_ops_checks()
    await jobs_monitor.special_ops_checks()
    got = sorted(await rows(pool, "SELECT rule, subject, severity, occurrences FROM alarms"))
    assert got == [
        ("gas_test_stale", "op:Y", "orange", 1),
        ("permit_expired", "op:X", "red", 1),
        ("telemetry_stale", "tag:NEVER", "blue", 1),
        ("telemetry_stale", "tag:OLD", "blue", 1),
        ("trial_overrun", "trial:TR", "orange", 1),
        ("video_missing", "op:Y", "red", 1),  # 特级动火 with no camera and no live session
    ]


def test_jobs_register_with_fixed_ids() -> None:
    added: list[tuple[str, dict]] = []

    class Fake:
        def add_job(self, func: str, **kw: object) -> None:
            added.append((func, kw))

    jobs_monitor.register(Fake())
    assert {kw["id"] for _, kw in added} == {f"monitor_{n}" for n, _ in jobs_monitor.JOBS}
    assert all(f.startswith("scheduler.jobs_monitor:") for f, _ in added)
