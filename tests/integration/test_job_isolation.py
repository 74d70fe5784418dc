"""One enterprise's bad stored row never stops a periodic check for the others: the issue's
probe (a permit valid to 9999-12-31T23:59:59-23:59, i.e. year 10000 in UTC) is written straight
into the database; another enterprise's expired permit is still alarmed, the poisoned one is
alarmed as a data problem, and its own status page and special_op_end still work."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from psycopg.types.json import Jsonb

from api.app import create_app
from config.policy import load_policies
from config.settings import Settings
from domain.draw import verify_bytes
from scheduler import jobs_draw, jobs_monitor, jobs_reminders
from scheduler.context import JobContext, set_context
from storage import draws
from tests.integration.apiclient import admin
from tests.integration.monitor_support import Device, rows, running_ingest, scalar, seed, ts
from tests.integration.monitor_support import wait_for as wait_until
from tests.integration.test_draw_scheduler import _draw_rows, _scheduled_plan

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


async def test_reminders_skip_a_poisoned_enterprise_and_still_remind_the_others(
    context, settings: Settings, pool
) -> None:
    """Bad stored rows of one enterprise (a licence list entry that is not an object, a
    rectification deadline and a publication end PostgreSQL stores but Python cannot read)."""
    bad, good = await seed(pool, 2)
    today = datetime.now(settings.tz).date()
    await _execute(
        pool,
        "UPDATE enterprises SET licences = CASE credit_code WHEN %(bad)s THEN %(poisoned)s"
        " ELSE %(fine)s END WHERE credit_code IN (%(bad)s, %(good)s)",
        {
            "bad": bad,
            "good": good,
            "poisoned": Jsonb(["安全生产许可证"]),
            "fine": Jsonb(
                [
                    {
                        "kind": "安全生产许可证",
                        "number": "WH-001",
                        "valid_to": (today + timedelta(days=80)).isoformat(),
                    }
                ]
            ),
        },
    )
    for ent, deadline, decided, until, decision in (
        (bad, "0044-03-15 BC", "0002-01-01 BC", "0001-01-01 BC", "坏〔2025〕1号"),
        (good, today + timedelta(days=2), "2025-06-01", today - timedelta(days=1), "好〔2025〕1号"),
    ):
        await _execute(
            pool,
            "INSERT INTO findings (enterprise_id, item_code, legal_basis, cause, measure,"
            " deadline, severity, outcome, created_by) VALUES (%(ent)s, 'SP-TRAIN-01',"
            " '安全生产法 第二十八条', '未培训', '补训', %(deadline)s, 'minor', 'guidance', 'x')",
            {"ent": ent, "deadline": deadline},
        )
        await _execute(
            pool,
            "INSERT INTO published_penalties (enterprise_id, decision_no, summary, decided_on,"
            " publish_until) VALUES (%(ent)s, %(no)s, '未按规定培训，罚款', %(decided)s,"
            " %(until)s)",
            {"ent": ent, "no": decision, "decided": decided, "until": until},
        )

    await jobs_reminders.reminders()
    await jobs_reminders.reminders()  # idempotent: nothing sent twice, one alarm

    sent = sorted(await rows(pool, "SELECT enterprise_id, kind, stage FROM reminders"))
    assert sent == [
        (good, "licence_expiry", "deadline"),  # 80 days out: past the 3-month deadline
        (good, "penalty_expiry", "d0"),
        (good, "rectification_deadline", "d3"),
    ]
    withdrawn = await rows(
        pool,
        "SELECT enterprise_id FROM published_penalties WHERE withdrawn_at IS NOT NULL",
    )
    assert withdrawn == [(good,)]
    got = await rows(pool, "SELECT enterprise_id, rule, subject, occurrences FROM alarms")
    assert got == [(bad, "stored_data_invalid", "job:reminders", 1)]


async def test_the_scheduled_draw_leaves_out_a_poisoned_enterprise_and_draws_the_others(
    context, pool
) -> None:
    """An enterprise name with a control character (the draw verifier refuses it) used to fail
    the whole plan's draw; now that enterprise is left out and alarmed, the others are drawn."""
    await _scheduled_plan(pool)
    codes = [r[0] for r in await rows(pool, "SELECT credit_code FROM enterprises ORDER BY 1")]
    bad = codes[len(codes) // 2]
    await _execute(
        pool,
        "UPDATE enterprises SET name = name || chr(7) WHERE credit_code = %(bad)s",
        {"bad": bad},
    )

    await jobs_draw.due_draws()
    await jobs_draw.due_draws()  # drawn once, alarmed once

    (record,) = await _draw_rows(pool)
    assert record.state == "drawn"
    async with pool.connection() as conn:
        document = await draws.document(conn, draw_id=record.id)
    assert verify_bytes(document) is None
    frozen = {r[0] for r in json.loads(document)["enterprises"]["rows"]}
    assert frozen == set(codes) - {bad}
    got = await rows(pool, "SELECT enterprise_id, rule, subject, occurrences FROM alarms")
    assert got == [(bad, "stored_data_invalid", "job:draws", 1)]
