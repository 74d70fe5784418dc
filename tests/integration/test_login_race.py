"""Sign-in throttling holds under real concurrency: parallel guesses cannot exceed the limit."""

from __future__ import annotations

import asyncio

import httpx
import psycopg

from domain.throttle import DEFAULT_POLICY
from tests.integration.apiclient import PASSWORD, add_user
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


async def test_parallel_wrong_current_passwords_check_at_most_the_limit(
    live_server: ServerThread, db_url: str
) -> None:
    """POST /api/v1/auth/password checks the current password: guesses with a stolen token are
    throttled like sign-ins, in the same budget, atomically under concurrency."""
    add_user(db_url, "holder", "duty")
    limits = httpx.Limits(max_connections=PARALLEL, max_keepalive_connections=PARALLEL)
    async with httpx.AsyncClient(base_url=live_server.url, limits=limits, timeout=60) as client:
        res = await client.post(
            "/api/v1/auth/token", data={"username": "holder", "password": PASSWORD}
        )
        assert res.status_code == 200, res.text
        headers = {"Authorization": f"Bearer {res.json()['access_token']}"}
        go = asyncio.Event()

        async def guess(i: int) -> int:
            await go.wait()
            res = await client.post(
                "/api/v1/auth/password",
                json={"current_password": f"wrong-{i}", "new_password": "a-new-password-1"},
                headers=headers,
            )
            return res.status_code

        tasks = [asyncio.create_task(guess(i)) for i in range(PARALLEL)]
        await asyncio.sleep(0)  # every task is waiting on the event: release them together
        go.set()
        statuses = await asyncio.gather(*tasks)
        # locked now: even the right current password is not checked, nor a sign-in
        right = await client.post(
            "/api/v1/auth/password",
            json={"current_password": PASSWORD, "new_password": "a-new-password-1"},
            headers=headers,
        )
        sign_in = await client.post(
            "/api/v1/auth/token", data={"username": "holder", "password": PASSWORD}
        )
    checked = statuses.count(422)
    print(f"\n{PARALLEL} parallel wrong current passwords: {checked} checked")  # noqa: T201
    assert set(statuses) <= {422, 429}, statuses
    assert 1 <= checked <= DEFAULT_POLICY.per_user
    assert right.status_code == 429
    assert int(right.headers["Retry-After"]) > 0
    assert sign_in.status_code == 429
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT outcome, count(*) FROM login_attempts WHERE username = 'holder' GROUP BY 1"
        ).fetchall()
        unchanged = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'user.password'"
        ).fetchone()
    counts = dict(rows)
    assert counts.get("failed", 0) == checked
    assert counts.get("pending", 0) == 0
    assert counts.get("ok", 0) == 1  # the first sign-in
    assert counts.get("throttled", 0) == PARALLEL - checked + 2
    assert unchanged == (0,)
