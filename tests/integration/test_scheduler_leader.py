"""Two scheduler processes: one leader runs the jobs; the other takes over when it stops."""

from __future__ import annotations

import asyncio

import psycopg

from config.policy import load_policies
from config.settings import Settings
from scheduler import service
from scheduler.context import JobContext
from storage.pool import make_pool


async def _jobs(url: str) -> set[str]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute("SELECT id FROM apscheduler_jobs")
        return {r[0] for r in await cur.fetchall()}


async def test_one_leader_and_failover(settings: Settings, monkeypatch) -> None:
    leaders: list[str] = []
    real_hold = service.hold_leadership

    def tracking(name: str):
        async def hold(url: str, stop: asyncio.Event, poll_s: float = 0.1):
            conn = await real_hold(url, stop, poll_s=0.1)
            if conn is not None:
                leaders.append(name)
            return conn

        return hold

    pool = make_pool(settings.database_url, max_size=2)
    await pool.open(wait=True)
    stop_a, stop_b = asyncio.Event(), asyncio.Event()
    ctx = JobContext(settings=settings, pool=pool, policies=load_policies(settings.policy_dir))
    monkeypatch.setattr(service, "hold_leadership", tracking("a"))
    task_a = asyncio.create_task(service.run_scheduler(settings, stop_a, ctx=ctx))
    await asyncio.sleep(1.0)
    monkeypatch.setattr(service, "hold_leadership", tracking("b"))
    task_b = asyncio.create_task(service.run_scheduler(settings, stop_b, ctx=ctx))
    await asyncio.sleep(1.0)
    assert leaders == ["a"]
    assert {"maintain_timeseries", "refresh_rollup", "reminders"} <= await _jobs(
        settings.database_url
    )
    stop_a.set()
    await asyncio.wait_for(task_a, 10)
    for _ in range(50):
        if leaders == ["a", "b"]:
            break
        await asyncio.sleep(0.1)
    assert leaders == ["a", "b"]
    stop_b.set()
    await asyncio.wait_for(task_b, 10)
    await pool.close()
