"""Two scheduler processes: one leader runs the jobs; the other takes over when it stops."""

from __future__ import annotations

import asyncio

import psycopg

from config.policy import load_policies
from config.settings import Settings
from scheduler import service
from scheduler.context import JobContext
from scheduler.service import LeaderSignals
from storage.pool import make_pool

WAIT_S = 60  # generous: the machine is shared; waits end as soon as the event is set


async def _jobs(url: str) -> set[str]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute("SELECT id FROM apscheduler_jobs")
        return {r[0] for r in await cur.fetchall()}


async def test_one_leader_and_failover(settings: Settings) -> None:
    pool = make_pool(settings.database_url, max_size=2)
    await pool.open(wait=True)
    stop_a, stop_b = asyncio.Event(), asyncio.Event()
    a, b = LeaderSignals(), LeaderSignals()
    ctx = JobContext(settings=settings, pool=pool, policies=load_policies(settings.policy_dir))
    task_a = asyncio.create_task(service.run_scheduler(settings, stop_a, ctx=ctx, signals=a))
    await asyncio.wait_for(a.leading.wait(), WAIT_S)
    task_b = asyncio.create_task(service.run_scheduler(settings, stop_b, ctx=ctx, signals=b))
    await asyncio.wait_for(b.refused.wait(), WAIT_S)  # b asked for the lock and was refused
    assert a.leading.is_set()
    assert not b.leading.is_set()
    assert {"maintain_timeseries", "refresh_rollup", "reminders"} <= await _jobs(
        settings.database_url
    )
    stop_a.set()
    await asyncio.wait_for(task_a, WAIT_S)
    assert a.stepped_down.is_set()
    await asyncio.wait_for(b.leading.wait(), WAIT_S)
    stop_b.set()
    await asyncio.wait_for(task_b, WAIT_S)
    assert b.stepped_down.is_set()
    await pool.close()
