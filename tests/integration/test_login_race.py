"""Sign-in throttling holds under real concurrency: parallel guesses cannot exceed the limit."""

from __future__ import annotations

import asyncio

import httpx
import psycopg

from domain.throttle import DEFAULT_POLICY
from tests.integration.apiclient import add_user
from tests.integration.liveserver import ServerThread

PARALLEL = 40


async def test_parallel_wrong_passwords_check_at_most_the_limit(
    live_server: ServerThread, db_url: str
) -> None:
    add_user(db_url, "target", "duty")
    limits = httpx.Limits(max_connections=PARALLEL, max_keepalive_connections=PARALLEL)
    async with httpx.AsyncClient(base_url=live_server.url, limits=limits, timeout=60) as client:
        go = asyncio.Event()

        async def guess(i: int) -> int:
            await go.wait()
            res = await client.post(
                "/api/v1/auth/token", data={"username": "target", "password": f"wrong-{i}"}
            )
            return res.status_code

        tasks = [asyncio.create_task(guess(i)) for i in range(PARALLEL)]
        await asyncio.sleep(0)  # every task is waiting on the event: release them together
        go.set()
        statuses = await asyncio.gather(*tasks)
    checked = statuses.count(401)
    print(f"\n{PARALLEL} parallel wrong passwords: {checked} checked, {statuses.count(429)} × 429")  # noqa: T201
    assert set(statuses) <= {401, 429}, statuses
    assert checked <= DEFAULT_POLICY.per_user
    assert checked >= 1
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT outcome, count(*) FROM login_attempts WHERE username = 'target' GROUP BY 1"
        ).fetchall()
    counts = dict(rows)
    assert counts.get("failed", 0) == checked
    assert counts.get("pending", 0) == 0
    assert counts.get("throttled", 0) == PARALLEL - checked
