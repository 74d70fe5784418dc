"""The simulator against the real broker and ingest, and the demo seeder."""

from __future__ import annotations

import asyncio

from config.settings import Settings
from monitor.demo_seed import DEMO_TAGS, seed_demo
from monitor.sim_profile import STORM
from monitor.simulator import run_simulator
from tests.integration.monitor_support import rows, running_ingest, scalar, seed


async def test_simulated_fleet_is_ingested(settings: Settings, pool) -> None:
    codes = await seed(pool, 5)
    await seed_demo(pool, settings)
    await seed_demo(pool, settings)  # idempotent
    assert await scalar(pool, "SELECT count(DISTINCT tag) FROM telemetry_tags") == len(DEMO_TAGS)
    async with running_ingest(settings, pool):
        stop = asyncio.Event()
        sim = asyncio.create_task(
            run_simulator(
                settings, stop, enterprises=5, rate=150, malformed_share=0.05, profile=STORM
            )
        )
        await asyncio.sleep(3)
        stop.set()
        await asyncio.wait_for(sim, 15)
        await asyncio.sleep(0.5)
    assert await scalar(pool, "SELECT count(*) FROM commitments") == 5
    assert await scalar(pool, "SELECT count(*) FROM events") > 20
    assert await scalar(pool, "SELECT count(*) FROM telemetry") > 200
    assert await scalar(pool, "SELECT count(*) FROM rejected_messages") > 0
    online = await rows(pool, "SELECT enterprise_id, presence_online FROM enterprise_status")
    assert {r[0] for r in online} == set(codes)
    assert not any(r[1] for r in online)  # each site said offline when it stopped
    assert await scalar(pool, "SELECT count(*) FROM alarms") > 0
