"""The reminders job sends each reminder once (also after a scheduler restart), sends the
enterprise's own as a notice (MQTT and inbox), and withdraws expired penalty information.
Enterprises and their licences are created through the API, as in production."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from psycopg_pool import AsyncConnectionPool

from api.app import create_app
from config.policy import load_policies
from config.settings import Settings
from domain.clock import BUREAU_TZ
from domain.credit_code import make_credit_code
from domain.enforcement import Decision, FindingDraft, Outcome, Severity
from scheduler.context import JobContext, set_context
from scheduler.jobs_reminders import reminders, send_due_reminders
from storage import enforcement, live
from storage.pool import make_pool
from tests.integration.apiclient import PASSWORD, add_user, admin, login, seed
from tests.integration.monitor_support import rows

TODAY = date(2026, 11, 29)
NOW = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
ENT = make_credit_code("652301", 4242)


def _create(settings: Settings, licences: list[dict[str, Any]]) -> None:
    """The enterprise and its licences through POST /api/v1/enterprises (stored as `kind`)."""
    with TestClient(create_app(settings)) as client:
        res = client.post(
            "/api/v1/enterprises",
            json={
                "credit_code": ENT,
                "name": "昌吉测试化工有限公司",
                "county": "昌吉市",
                "sector": "hazchem_production",
                "licences": licences,
            },
            headers=admin(client),
        )
        assert res.status_code == 201, res.text


@pytest.fixture
def policies(settings: Settings) -> Any:
    return load_policies(settings.policy_dir)


async def _finding_and_penalty(pool: AsyncConnectionPool) -> None:
    async with pool.connection() as conn:
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
            decision_no="昌州应急罚〔2025〕1号",
            summary="未按规定培训，罚款",
            decided_on=date(2025, 6, 1),
            publish_until=TODAY - timedelta(days=1),
        )


async def test_reminders_are_sent_once_as_notices_and_expired_penalties_withdrawn(
    pool: AsyncConnectionPool, settings: Settings, policies: Any
) -> None:
    _create(
        settings,
        [{"kind": "安全生产许可证", "number": "WH-001", "valid_to": str(TODAY + timedelta(100))}],
    )
    await _finding_and_penalty(pool)
    kw = {
        "policy": policies.reminders,
        "schedule": policies.licences,
        "notice_life": timedelta(days=7),
    }
    async with pool.connection() as conn:
        assert len(await enforcement.public_penalties(conn, today=TODAY - timedelta(days=5))) == 1
        sent = await send_due_reminders(conn, today=TODAY, now=NOW, **kw)
    assert sorted((r.kind, r.stage) for r in sent) == [
        ("licence_expiry", "first"),
        ("penalty_expiry", "d0"),  # ended yesterday: staff are told it was withdrawn
        ("rectification_deadline", "d3"),
    ]
    [lic] = [r for r in sent if r.kind == "licence_expiry"]
    # the bug: the type is stored under `kind` and every reminder said only "许可证"
    assert lic.text.startswith("安全生产许可证（编号WH-001）")
    assert policies.licences.rule("安全生产许可证").procedure in lic.text
    notices = await rows(
        pool,
        "SELECT kind, text, extra->>'stage' FROM downlinks"
        " WHERE channel = 'notice' AND enterprise_id = %(e)s ORDER BY id",
        {"e": ENT},
    )
    assert [(k, s) for k, _, s in notices] == [
        ("licence_expiry", "first"),
        ("rectification_deadline", "d3"),
    ]
    assert notices[0][1] == lic.text
    async with pool.connection() as conn:
        again = await send_due_reminders(conn, today=TODAY, now=NOW, **kw)
        assert again == []
        assert await enforcement.public_penalties(conn, today=TODAY - timedelta(days=5)) == []
        changes = await live.changes_since(conn, after=0)
    kinds = [c.kind for c in changes if c.kind != "directory"]
    # three reminders (two also as notices), and the audited withdrawal announced once
    assert sorted(kinds) == sorted(["reminder"] * 3 + ["guidance"] * 2 + ["penalty"])


async def test_a_frozen_clock_walks_a_licence_through_every_stage_once_across_a_restart(
    settings: Settings, db_url: str, policies: Any
) -> None:
    valid_to = date(2027, 6, 30)
    _create(
        settings,
        [{"kind": "危险化学品经营许可证", "number": "JY-7", "valid_to": valid_to.isoformat()}],
    )
    day = [valid_to - timedelta(days=160)]

    def clock() -> datetime:  # 08:00 bureau time, the job's hour
        return datetime.combine(day[0], time(8, 0), tzinfo=BUREAU_TZ)

    async def start() -> tuple[AsyncConnectionPool, JobContext]:
        pool = make_pool(db_url, min_size=1, max_size=2)
        await pool.open(wait=True)
        ctx = JobContext(settings, pool, policies, extras={"clock": clock})
        set_context(ctx)
        return pool, ctx

    sent_on: dict[str, date] = {}
    pool, _ = await start()
    try:
        while day[0] <= valid_to + timedelta(days=40):
            await reminders()
            if day[0] in (date(2027, 3, 30), date(2027, 7, 1)):
                # the scheduler restarts and runs the same day's job again (misfire catch-up)
                set_context(None)
                await pool.close()
                pool, _ = await start()
                await reminders()
            found = await rows(
                pool,
                "SELECT stage FROM reminders WHERE kind = 'licence_expiry' AND subject = %(s)s",
                {"s": f"{ENT}:危险化学品经营许可证:JY-7"},
            )
            for (stage,) in found:
                sent_on.setdefault(stage, day[0])
            day[0] += timedelta(days=1)
        stages = await rows(
            pool,
            "SELECT stage, text FROM reminders WHERE kind = 'licence_expiry' ORDER BY id",
        )
        notices = await rows(
            pool,
            "SELECT extra->>'stage' FROM downlinks WHERE kind = 'licence_expiry' ORDER BY id",
        )
    finally:
        set_context(None)
        await pool.close()
    assert [s for s, _ in stages] == ["first", "deadline", "last", "expired"]
    assert [n for (n,) in notices] == ["first", "deadline", "last", "expired"]
    assert sent_on == {
        "first": date(2027, 2, 28),
        "deadline": date(2027, 3, 30),
        "last": date(2027, 5, 30),
        "expired": date(2027, 7, 1),
    }
    assert all("危险化学品经营许可证（编号JY-7）" in t for _, t in stages)


def test_duty_staff_list_upcoming_expiries_and_the_enterprise_sees_its_reminder(
    settings: Settings, db_url: str
) -> None:
    today = datetime.now(BUREAU_TZ).date()
    _create(
        settings,
        [
            {"kind": "安全生产许可证", "number": "WH-100", "valid_to": str(today + timedelta(100))},
            {
                "kind": "危险化学品经营许可证",
                "number": "JY-1",
                "valid_to": str(today + timedelta(900)),
            },
        ],
    )
    (other,) = seed(db_url, 1)
    add_user(db_url, "lic_ent", "enterprise", ENT)
    add_user(db_url, "lic_other", "enterprise", other)
    with TestClient(create_app(settings)) as client:
        staff = admin(client)
        rows_ = client.get("/api/v1/licences/expiring", headers=staff).json()
        assert [(r["number"], r["stage"]) for r in rows_] == [("WH-100", "first")]
        own = login(client, "lic_ent", PASSWORD)
        mine = client.get(f"/api/v1/enterprises/{ENT}/licences", headers=own).json()
        first = next(r for r in mine if r["number"] == "WH-100")
        assert first["stage_label"] == "首次提醒"
        assert first["procedure"] in first["reminder"]
        assert next(r for r in mine if r["number"] == "JY-1")["reminder"] is None
        assert client.get("/api/v1/licences/expiring", headers=own).status_code == 403
        stranger = login(client, "lic_other", PASSWORD)
        res = client.get(f"/api/v1/enterprises/{ENT}/licences", headers=stranger)
        assert res.status_code == 403
