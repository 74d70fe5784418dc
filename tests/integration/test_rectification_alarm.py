"""An overdue rectification order is an alarm in the duty/supervisor queue (the alarms table and
live board the monitoring alarms use): raised once per overdue period — two scheduler replicas
sweeping at the same moment and a restarted scheduler raise it once — and closed by the system
when an extension is approved or a passing 复查 verifies the order. Time is a frozen clock."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from psycopg_pool import AsyncConnectionPool

from api.app import create_app
from config.policy import load_policies
from config.settings import Settings
from domain.clock import BUREAU_TZ
from scheduler.context import JobContext, set_context
from scheduler.jobs_reminders import reminders
from services import rectification
from storage.pool import make_pool
from tests.integration.apiclient import PASSWORD, login
from tests.integration.test_rectification_loop import FIRST, SOON, _setup

RULE = "rectification_overdue"


def _alarms(db_url: str, oid: int) -> list[tuple[Any, ...]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT id, state, severity, message, message_code, closed_by, cause_category,"
            " action_taken FROM alarms WHERE rule = %s AND subject = %s ORDER BY id",
            (RULE, f"rectification:{oid}"),
        ).fetchall()


def _live_alarm_changes(db_url: str, alarm_id: int) -> list[str]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT payload->>'change' FROM live_changes WHERE kind = 'alarm'"
            " AND (payload->>'id')::bigint = %s ORDER BY id",
            (alarm_id,),
        ).fetchall()
    return [str(r[0]) for r in rows]


async def test_overdue_order_alarm_once_and_closed_by_extension_then_by_reinspection(
    settings: Settings, db_url: str
) -> None:
    policies = load_policies(settings.policy_dir)
    day = [SOON + timedelta(days=1)]

    def clock() -> datetime:  # the job's hour, bureau time, on the frozen day
        return datetime.combine(day[0], time(8, 0), tzinfo=BUREAU_TZ)

    async def start() -> AsyncConnectionPool:
        pool = make_pool(db_url, min_size=1, max_size=3)
        await pool.open(wait=True)
        set_context(JobContext(settings, pool, policies, extras={"clock": clock}))
        return pool

    with TestClient(create_app(settings)) as client:
        iid, code, team, ent, sup = _setup(client, db_url)
        duty = login(client, "t_duty", PASSWORD)
        f1 = client.post(f"/api/v1/inspections/{iid}/findings", json=FIRST, headers=team).json()
        res = client.post(f"/api/v1/inspections/{iid}/rectification", headers=team)
        assert res.status_code == 201, res.text
        order = res.json()
        oid = order["id"]

        pool = await start()
        try:
            # the day before the deadline passes: nothing
            day[0] = SOON
            await reminders()
            assert _alarms(db_url, oid) == []

            # two scheduler replicas sweep at the same moment: one alarm, one escalation
            day[0] = SOON + timedelta(days=1)

            async def replica() -> list[int]:
                async with pool.connection() as conn, conn.transaction():
                    return await rectification.sweep_overdue(
                        conn,
                        today=day[0],
                        now=clock(),
                        alarm_rules=policies.monitoring.rules,
                    )

            first, second = await asyncio.gather(replica(), replica())
            assert sorted([first, second]) == [[], [oid]]
            # the scheduler restarts and runs the day's job again: still one
            set_context(None)
            await pool.close()
            pool = await start()
            await reminders()
            await reminders()
            (alarm,) = _alarms(db_url, oid)
            alarm_id, state, severity, message, code_, *_ = alarm
            assert (state, severity, code_) == ("active", "orange", "alarm.rectification_overdue")
            assert order["doc_no"] in message
            assert "整改期限" in message
            assert "尚未经复查确认整改完成" in message
            assert _live_alarm_changes(db_url, alarm_id) == ["raised"]

            # it is in the duty/supervisor queue (the same list the monitoring alarms use)
            for who in (duty, sup):
                listed = client.get("/api/v1/alarms", params={"ent": code}, headers=who).json()
                assert [a["id"] for a in listed["items"] if a["rule"] == RULE] == [alarm_id]
            assert client.get(f"/api/v1/rectifications/{oid}", headers=sup).json()["state"] == (
                "overdue"
            )

            # an approved extension closes it (by the system)
            longer = (SOON + timedelta(days=20)).isoformat()
            res = client.post(
                f"/api/v1/rectifications/{oid}/extensions",
                json={"requested_deadline": longer, "reason": "警示标志订制未到货"},
                headers=ent,
            )
            assert res.status_code == 201, res.text
            res = client.post(
                f"/api/v1/rectification-extensions/{res.json()['id']}/decide",
                json={"approve": True, "reason": "理由充分，同意延期"},
                headers=sup,
            )
            assert res.status_code == 200, res.text
            (alarm,) = _alarms(db_url, oid)
            assert alarm[1] == "closed"
            assert alarm[5:7] == ("system", "deadline_extended")
            assert "延长至" in alarm[7]
            assert _live_alarm_changes(db_url, alarm_id) == ["raised", "closed"]

            # still within the extended deadline: no new alarm
            day[0] = date.fromisoformat(longer)
            await reminders()
            assert len(_alarms(db_url, oid)) == 1
            # past the extended deadline: a new overdue period, a new alarm (once)
            day[0] = date.fromisoformat(longer) + timedelta(days=1)
            await reminders()
            await reminders()
            alarms = _alarms(db_url, oid)
            assert [a[1] for a in alarms] == ["closed", "active"]

            # a passing 复查 verifies the order and closes the second alarm
            res = client.post(
                f"/api/v1/findings/{f1['id']}/reinspection",
                json={"inspection_id": iid, "result": "passed", "note": "现场核实已整改"},
                headers=team,
            )
            assert res.status_code == 200, res.text
            alarms = _alarms(db_url, oid)
            assert [a[1] for a in alarms] == ["closed", "closed"]
            assert alarms[1][5:7] == ("system", "rectification_verified")
            # closed: later runs raise nothing
            day[0] += timedelta(days=5)
            await reminders()
            assert len(_alarms(db_url, oid)) == 2
        finally:
            set_context(None)
            await pool.close()


async def test_an_order_escalated_before_the_alarm_existed_gets_its_alarm_once(
    settings: Settings, db_url: str, pool: AsyncConnectionPool
) -> None:
    policies = load_policies(settings.policy_dir)
    with TestClient(create_app(settings)) as client:
        iid, _, team, _, _ = _setup(client, db_url)
        client.post(f"/api/v1/inspections/{iid}/findings", json=FIRST, headers=team)
        res = client.post(f"/api/v1/inspections/{iid}/rectification", headers=team)
        assert res.status_code == 201, res.text
        oid = res.json()["id"]
    late = datetime.combine(SOON + timedelta(days=2), time(8, 0), tzinfo=BUREAU_TZ)
    with psycopg.connect(db_url) as conn:  # escalated by the code before this alarm existed
        conn.execute(
            "UPDATE rectification_orders SET state = 'overdue', escalated_at = %s WHERE id = %s",
            (late - timedelta(days=1), oid),
        )

    async def replica() -> list[int]:
        async with pool.connection() as conn, conn.transaction():
            return await rectification.sweep_overdue(
                conn, today=late.date(), now=late, alarm_rules=policies.monitoring.rules
            )

    assert await asyncio.gather(replica(), replica()) == [[], []]  # no new escalation
    await replica()
    (alarm,) = _alarms(db_url, oid)
    assert alarm[1] == "active"
    with psycopg.connect(db_url) as conn:
        actions = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'rectification.overdue_alarm'"
        ).fetchone()
    assert actions == (1,)
    # closed by duty staff while still overdue: not raised again
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "UPDATE alarms SET state = 'closed', acked_by = 'duty', closed_by = 'duty',"
            " closed_at = now(), cause_category = 'other', action_taken = '已电话督办'"
            " WHERE id = %s",
            (alarm[0],),
        )
    await replica()
    assert len(_alarms(db_url, oid)) == 1
