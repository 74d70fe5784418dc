"""One enterprise's bad stored row never stops a periodic check for the others: the issue's
probe (a permit valid to 9999-12-31T23:59:59-23:59, i.e. year 10000 in UTC) is written straight
into the database; another enterprise's expired permit is still alarmed, the poisoned one is
alarmed as a data problem, and its own status page and special_op_end still work."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from config.policy import load_policies
from config.settings import Settings
from scheduler import jobs_monitor
from scheduler.context import JobContext, set_context
from tests.integration.apiclient import admin
from tests.integration.monitor_support import Device, rows, running_ingest, scalar, seed, ts
from tests.integration.monitor_support import wait_for as wait_until

POISON = "10000-01-01 23:58:59+00"  # what 9999-12-31T23:59:59-23:59 is in UTC


@pytest.fixture
def context(settings: Settings, pool) -> Iterator[JobContext]:
    ctx = JobContext(settings=settings, pool=pool, policies=load_policies(settings.policy_dir))
    set_context(ctx)
    yield ctx
    set_context(None)


async def _execute(pool, query: str, params: dict[str, object]) -> None:
    async with pool.connection() as conn:
        await conn.execute(query, params)


async def test_a_poisoned_enterprise_is_skipped_and_alarmed_others_still_checked(
    context, settings: Settings, pool
) -> None:
    bad, good = await seed(pool, 2)
    await _execute(
        pool,
        "INSERT INTO special_operations (enterprise_id, op_id, op_type, grade, permit_no,"
        " valid_from, valid_to, location, guardian, state, started_at, last_gas_test_at) VALUES"
        " (%(bad)s, 'P', 'lifting', '1', 'P9', now() - interval '1 hour', %(poison)s,"
        "  'L', 'G', 'active', now() - interval '1 hour', now()),"
        " (%(good)s, 'X', 'lifting', '1', 'P1', now() - interval '9 hours',"
        "  now() - interval '1 hour', 'L', 'G', 'active', now() - interval '9 hours', now())",
        {"bad": bad, "good": good, "poison": POISON},
    )
    await _execute(
        pool,
        "INSERT INTO enterprise_status (enterprise_id, mode, trial_id, trial_planned_end)"
        " VALUES (%(bad)s, 'trial_production', 'TR', %(poison)s)",
        {"bad": bad, "poison": POISON},
    )
    await jobs_monitor.special_ops_checks()
    await jobs_monitor.special_ops_checks()  # idempotent
    got = sorted(await rows(pool, "SELECT enterprise_id, rule, subject, occurrences FROM alarms"))
    assert (good, "permit_expired", "op:X", 1) in got
    assert (bad, "stored_data_invalid", "job:special_ops_checks", 1) in got
    assert not [g for g in got if g[0] == bad and g[1] != "stored_data_invalid"]
    message = await scalar(pool, "SELECT message FROM alarms WHERE rule = 'stored_data_invalid'")
    assert "已跳过" in message
    assert "P" in message

    # The poisoned enterprise's own pages and events still work.
    with TestClient(create_app(settings)) as client:
        res = client.get(f"/api/v1/enterprises/{bad}/status", headers=admin(client))
        assert res.status_code == 200, res.text
    dev = Device(settings, bad)
    try:
        async with running_ingest(settings, pool):
            dev.send(
                "event", {"event_id": "end-P", "ts": ts(), "type": "special_op_end", "op_id": "P"}
            )

            async def ended() -> bool:
                state = await scalar(
                    pool,
                    "SELECT state FROM special_operations WHERE op_id = 'P'",
                )
                return state == "ended"

            await wait_until(ended, timeout=30, what="the poisoned operation closed")
        refused = await scalar(pool, "SELECT count(*) FROM rejected_messages")
        assert refused == 0
    finally:
        dev.close()
