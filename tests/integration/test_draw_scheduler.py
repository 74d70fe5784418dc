"""Scheduled draws happen exactly once per (plan, period), even with two schedulers at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from psycopg_pool import AsyncConnectionPool

from config.policy import load_policies
from config.policy_sampling import PlanFile, load_sampling_policy
from config.settings import Settings
from domain.draw import verify_bytes
from scheduler import service
from scheduler.context import JobContext
from services import draws as draw_service
from storage import draws, inspections
from storage.pool import make_pool
from tests.integration.test_draw_storage import PROD, TEST, load_directory

POLICY = load_sampling_policy()
BACKDATE = "UPDATE plans SET created_at = now() - interval '3 days'"


async def _scheduled_plan(pool: AsyncConnectionPool, *, witnessed: bool = False) -> None:
    await load_directory(pool, count=120)
    spec = PlanFile.model_validate(
        {
            "plan_id": "DAILY",
            "team": {"departments": ["应急管理局", "市场监管局"]},
            "workload_cap": 6,
            "strata": [{"ratio": "0.1"}],
            "schedule": {
                "cron": "0 9 * * *",
                "timezone": "Asia/Shanghai",
                "window_days": 7,
                "period_format": "%Y-%m-%d",
            },
            **(
                {"public_value": {"kind": "lottery", "name": "中国福利彩票双色球"}}
                if witnessed
                else {}
            ),
        }
    )
    async with pool.connection() as conn:
        await draw_service.save_plan(conn, spec=spec, policy=POLICY)
        await conn.execute(BACKDATE)


async def _draw_rows(pool: AsyncConnectionPool) -> list[draws.DrawRecord]:
    async with pool.connection() as conn:
        return await draws.list_draws(conn)


async def test_concurrent_runs_without_a_leader_still_draw_once(
    pool: AsyncConnectionPool, db_url: str
) -> None:
    await _scheduled_plan(pool)
    now = datetime.now(UTC)
    other = make_pool(db_url, min_size=1, max_size=2)
    await other.open(wait=True)
    try:
        results = await asyncio.gather(
            draw_service.run_due_draws(pool, now=now, policy=TEST),
            draw_service.run_due_draws(other, now=now, policy=TEST),
            draw_service.run_due_draws(pool, now=now, policy=TEST),
        )
    finally:
        await other.close()
    assert sum(len(r) for r in results) >= 1
    rows = await _draw_rows(pool)
    assert len(rows) == 1
    record = rows[0]
    assert record.state == "drawn"
    fire = draw_service.latest_fire_time(await _plan(pool), now)
    assert fire is not None
    first = fire.astimezone(ZoneInfo("Asia/Shanghai")).date()
    assert record.period == f"{first}/{first + timedelta(days=6)}"
    async with pool.connection() as conn:
        assert verify_bytes(await draws.document(conn, draw_id=record.id)) is None
        made = await inspections.for_draw(conn, draw_id=record.id)
        picked = await draws.selections(conn, draw_id=record.id)
    assert len(made) == sum(p.staffed for p in picked)
    later = now + timedelta(minutes=5)
    assert await draw_service.run_due_draws(pool, now=later, policy=TEST) == []


async def _plan(pool: AsyncConnectionPool) -> draws.StoredPlan:
    async with pool.connection() as conn:
        return await draws.get_plan(conn, plan_id="DAILY")


async def test_witnessed_plans_are_frozen_and_wait_for_the_public_value(
    pool: AsyncConnectionPool,
) -> None:
    await _scheduled_plan(pool, witnessed=True)
    now = datetime.now(UTC)
    await draw_service.run_due_draws(pool, now=now, policy=PROD)
    await draw_service.run_due_draws(pool, now=now, policy=PROD)
    (record,) = await _draw_rows(pool)
    assert record.state == "frozen"
    assert record.read_after is not None
    assert record.read_after == record.frozen_at + timedelta(hours=24)
    async with pool.connection() as conn:
        drawn = await draw_service.perform_draw(
            conn,
            draw_id=record.id,
            public_value="03 07 12 19 25 31 + 09",
            actor="witness",
            now=record.read_after,
        )
    assert drawn.public_value == "3 7 12 19 25 31 9"  # the one canonical spelling


async def test_production_refuses_a_scheduled_plan_without_a_public_value(
    pool: AsyncConnectionPool,
) -> None:
    await _scheduled_plan(pool)
    assert await draw_service.run_due_draws(pool, now=datetime.now(UTC), policy=PROD) == []
    assert await _draw_rows(pool) == []


async def test_two_schedulers_started_together_produce_one_draw(
    settings: Settings, pool: AsyncConnectionPool
) -> None:
    await _scheduled_plan(pool)
    stops = [asyncio.Event(), asyncio.Event()]
    policies = load_policies(settings.policy_dir)
    pools = [make_pool(settings.database_url, max_size=3) for _ in stops]
    for p in pools:
        await p.open(wait=True)
    tasks = [
        asyncio.create_task(
            service.run_scheduler(
                settings,
                stop,
                ctx=JobContext(settings=settings, pool=p, policies=policies),
            )
        )
        for stop, p in zip(stops, pools, strict=True)
    ]
    try:
        for _ in range(150):
            rows = await _draw_rows(pool)
            if rows and rows[0].state == "drawn":
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # give a second draw every chance to appear
        rows = await _draw_rows(pool)
        assert len(rows) == 1
        assert rows[0].state == "drawn"
        assert rows[0].drawn_by == "scheduler"
    finally:
        for stop in stops:
            stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 20)
        for p in pools:
            await p.close()
