"""The reminders job sends each reminder once and withdraws expired penalty information."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from config.policy_enforcement import load_reminders
from config.settings import DEFAULT_POLICY_DIR
from domain.credit_code import make_credit_code
from domain.enforcement import Decision, FindingDraft, Outcome, Severity
from scheduler.jobs_reminders import send_due_reminders
from storage import enforcement, live

TODAY = date(2026, 11, 29)
NOW = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
POLICY = load_reminders(DEFAULT_POLICY_DIR)
ENT = make_credit_code("330102", 4242)


async def _setup(pool: AsyncConnectionPool) -> None:
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO enterprises (credit_code, name, county, sector, licences)"
            " VALUES (%(c)s, '测试化工有限公司', '上城区', 'hazchem_production', %(l)s)",
            {
                "c": ENT,
                "l": Jsonb(
                    [
                        {
                            "type": "安全生产许可证",
                            "number": "WH-001",
                            "valid_to": (TODAY + timedelta(days=80)).isoformat(),
                        }
                    ]
                ),
            },
        )
        draft = FindingDraft(
            "SP-TRAIN-01",
            "安全生产法 第二十八条",
            "未培训",
            "补训",
            TODAY + timedelta(days=2),
            Severity.MINOR,
        )
        await enforcement.insert_finding(
            conn,
            draft=draft,
            enterprise_id=ENT,
            inspection_id=None,
            decision=Decision(Outcome.GUIDANCE, ("first",)),
            created_by="inspector",
        )
        await enforcement.publish_penalty(
            conn,
            enterprise_id=ENT,
            decision_no="杭应急罚〔2025〕1号",
            summary="未按规定培训，罚款",
            decided_on=date(2025, 6, 1),
            publish_until=TODAY - timedelta(days=1),
        )


async def test_reminders_are_sent_once_and_expired_penalties_withdrawn(
    pool: AsyncConnectionPool,
) -> None:
    await _setup(pool)
    async with pool.connection() as conn:
        assert len(await enforcement.public_penalties(conn, today=TODAY - timedelta(days=5))) == 1
        sent = await send_due_reminders(conn, today=TODAY, now=NOW, policy=POLICY)
    assert sorted((r.kind, r.stage) for r in sent) == [
        ("licence_expiry", "d90"),
        ("penalty_expiry", "d0"),  # ended yesterday: staff are told it was withdrawn
        ("rectification_deadline", "d3"),
    ]
    async with pool.connection() as conn:
        again = await send_due_reminders(conn, today=TODAY, now=NOW, policy=POLICY)
        assert again == []
        assert await enforcement.public_penalties(conn, today=TODAY - timedelta(days=5)) == []
        changes = await live.changes_since(conn, after=0)
    # three reminders, and the audited withdrawal of the expired penalty announced once
    assert [c.kind for c in changes] == ["reminder"] * 3 + ["penalty"]
    async with pool.connection() as conn:  # a later day reaches the next stage
        later = await send_due_reminders(
            conn, today=TODAY + timedelta(days=2), now=NOW, policy=POLICY
        )
    assert [(r.kind, r.stage) for r in later] == [("rectification_deadline", "d0")]
