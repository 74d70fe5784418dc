"""`safewatch demo` draw-room seeding: idempotent, one plan, one published verifiable draw."""

from __future__ import annotations

from collections import Counter

from psycopg_pool import AsyncConnectionPool

from config.settings import Settings
from demo.data import demo_enterprises
from demo.directory import DEMO_PLAN_ID
from domain.clock import utcnow
from domain.draw import verify_bytes
from scheduler.demo_seed import current_period, seed_demo
from storage import directory, draws, inspections, seed

COUNT_CONFLICTS = "SELECT count(*) FROM officer_conflicts"


async def test_seeding_twice_gives_one_plan_and_one_verifiable_draw(
    pool: AsyncConnectionPool, settings: Settings
) -> None:
    async with pool.connection() as conn:
        await seed.seed_enterprises(conn, rows=demo_enterprises())
    await seed_demo(pool, settings)
    await seed_demo(pool, settings)
    async with pool.connection() as conn:
        plans = await draws.list_plans(conn)
        assert [p.plan_id for p in plans] == [DEMO_PLAN_ID]
        records = await draws.list_draws(conn)
        assert len(records) == 1
        record = records[0]
        assert (record.state, record.status) == ("drawn", "complete")
        assert record.period == current_period(plans[0], utcnow()).label
        assert verify_bytes(await draws.document(conn, draw_id=record.id)) is None
        people = await directory.list_officers(conn, limit=1000)
        assert Counter(p.auxiliary for p in people) == {False: 40, True: 6}
        cur = await conn.execute(COUNT_CONFLICTS)
        assert await cur.fetchone() == (5,)
        assert len(await directory.list_items(conn)) == 17
        picked = await draws.selections(conn, draw_id=record.id)
        assert picked
        assert all(p.staffed and len(p.experts) == 1 for p in picked)
        assert len(await inspections.for_draw(conn, draw_id=record.id)) == len(picked)
        left_out = await draws.exclusions(conn, draw_id=record.id, kind="officer")
        assert {x.reason for x in left_out} >= {"inactive", "certificate_expires"}
