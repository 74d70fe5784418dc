"""Scale-out as processes on this machine: 2 monitors on one shared subscription, 2 API processes,
2 schedulers, one PostgreSQL database and one Mosquitto (the project's config, per-enterprise
credentials). A mixed stream for 200 enterprises (out of order, late events) ends in every
enterprise's event-time state with nothing lost or stored twice and both monitors working; a live
push reaches a WebSocket client on either API process; a draw that falls due while the leading
scheduler is killed happens exactly once, across a second failover too."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from psycopg_pool import AsyncConnectionPool
from websockets.asyncio.client import ClientConnection, connect

from config.policy_monitoring import load_monitoring_policy
from config.settings import Settings
from domain import replay as rp
from monitor.broker import free_port
from tests.conftest import TEST_ADMIN_PASSWORD
from tests.integration.monitor_support import scalar, seed, stop_broker, wait_for
from tests.integration.order_support import check_final_state, drive, scripts_for
from tests.integration.test_draw_scheduler import _scheduled_plan
from tests.integration.topology_support import (
    Fleet,
    Proc,
    base_env,
    secured_broker,
    wait_log,
)

log = logging.getLogger(__name__)

ENTERPRISES = 200
LEADER = "this process is the leader"


async def _healthy(port: int) -> None:
    async def up() -> bool:
        try:
            async with httpx.AsyncClient(timeout=2) as c:
                return (await c.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    await wait_for(up, timeout=60, what=f"API on port {port} healthy")


async def _token(port: int) -> str:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
        res = await c.post(
            "/api/v1/auth/token", data={"username": "admin", "password": TEST_ADMIN_PASSWORD}
        )
        assert res.status_code == 200, res.text
        return str(res.json()["access_token"])


async def _until(ws: ClientConnection, want: Any, wait: float = 20) -> dict[str, Any]:
    async with asyncio.timeout(wait):
        while True:
            msg = json.loads(await ws.recv())
            if want(msg):
                return dict(msg)


async def _job_runs(port: int, job: str) -> float:
    """Successful runs of a job, from the scheduler process's own /metrics."""
    try:
        async with httpx.AsyncClient(timeout=2) as c:
            text = (await c.get(f"http://127.0.0.1:{port}/metrics")).text
    except httpx.HTTPError:
        return 0
    needle = f'safewatch_scheduler_job_runs_total{{job="{job}",outcome="ok"}} '
    for line in text.splitlines():
        if line.startswith(needle):
            return float(line[len(needle) :])
    return 0


async def _drawn(pool: AsyncConnectionPool) -> int:
    sql = "SELECT count(*) FROM draws WHERE plan_id = 'DAILY' AND state = 'drawn'"
    return int(await scalar(pool, sql))


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_two_monitors_two_apis_two_schedulers(
    settings: Settings, pool: AsyncConnectionPool, db_url: str, tmp_path: Path
) -> None:
    begun = time.monotonic()
    ents = await seed(pool, ENTERPRISES)
    prefix = settings.mqtt_topic_prefix
    secured = await asyncio.to_thread(secured_broker, db_url, prefix)
    env = base_env(db_url, prefix, secured)
    logs = tmp_path / "logs"
    logs.mkdir()
    ports = [free_port(), free_port()]
    monitors = [
        Proc(
            f"monitor-{i}",
            ["monitor"],
            {
                **env,
                "SAFEWATCH_MQTT_CLIENT_ID": f"topology-monitor-{i}",
                "SAFEWATCH_MQTT_SHARED_GROUP": "monitor",
            },
            logs,
        )
        for i in range(2)
    ]
    apis = [
        Proc(f"api-{i}", ["api"], {**env, "SAFEWATCH_HTTP_PORT": str(p)}, logs)
        for i, p in enumerate(ports)
    ]
    metrics_ports = [free_port(), free_port()]
    schedulers = [
        Proc(f"scheduler-{i}", ["scheduler"], {**env, "SAFEWATCH_METRICS_PORT": str(p)}, logs)
        for i, p in enumerate(metrics_ports)
    ]
    procs = [*monitors, *apis, *schedulers]
    fleet: Fleet | None = None
    try:
        for m in monitors:
            await asyncio.to_thread(wait_log, [m], "subscribed to")
        for p in ports:
            await _healthy(p)
        leader = await asyncio.to_thread(wait_log, schedulers, LEADER)
        fleet = await asyncio.to_thread(Fleet, secured, prefix, ents)
        started = time.monotonic() - begun

        # 1. The stream through both monitors: event-time state, 0 lost, 0 duplicated.
        scripts = scripts_for(ents)
        t0 = time.monotonic()
        total = await drive(pool, fleet.publish, scripts)
        stream_s = time.monotonic() - t0
        # Alarms of the event rules only: the schedulers' periodic checks raise the time-based
        # ones (stale gas test, permit expiry) on the wall clock, as they should.
        policy = load_monitoring_policy(settings.policy_dir)
        await check_final_state(pool, policy, scripts, sorted(rp.EVENT_RULES))

        # 2. A live push reaches a WebSocket client on either API process.
        token = await _token(ports[0])
        urls = [f"ws://127.0.0.1:{p}/api/v1/live?token={token}" for p in ports]
        async with connect(urls[0]) as ws_a, connect(urls[1]) as ws_b:
            for ws in (ws_a, ws_b):
                await _until(ws, lambda m: m["type"] == "synced")
            marker = {
                "event_id": "topology-marker",
                "ts": datetime.now(UTC).isoformat(),
                "type": "maintenance_start",
                "maint_id": "MARK",
                "scope": "plant",
                "units": ["U1"],
            }
            await asyncio.to_thread(fleet.publish, [(ents[0], marker)])
            for ws in (ws_a, ws_b):
                msg = await _until(
                    ws,
                    lambda m: (
                        m["type"] == "change"
                        and m["kind"] == "status"
                        and m["enterprise_id"] == ents[0]
                        and m["payload"].get("headline") == "maintenance_whole"
                    ),
                )
                assert msg["payload"]["maintenance"] == "plant"

        # 3. A draw due while the leading scheduler is dead happens once, across two failovers.
        killed_at = await asyncio.to_thread(leader.kill)
        await _scheduled_plan(pool)
        (follower,) = [s for s in schedulers if s is not leader]
        await asyncio.to_thread(wait_log, [follower], LEADER)
        failover_s = time.monotonic() - killed_at

        async def drawn() -> bool:
            return await _drawn(pool) >= 1

        await wait_for(drawn, timeout=150, what="the due draw")
        draw_s = time.monotonic() - killed_at
        leader.restart()
        await asyncio.to_thread(follower.kill)
        await asyncio.to_thread(wait_log, [leader], LEADER, 60, 2)
        port = metrics_ports[schedulers.index(leader)]

        async def draws_ran() -> bool:
            return await _job_runs(port, "draws") >= 1

        await wait_for(draws_ran, timeout=60, what="the new leader's draw job")
        assert await _drawn(pool) == 1
        assert await scalar(pool, "SELECT count(*) FROM draws WHERE plan_id = 'DAILY'") == 1
    finally:
        if fleet is not None:
            fleet.close()
        for p in procs:
            await asyncio.to_thread(p.stop)
        stop_broker(secured.broker)
    # Both monitors took part (each logs what it stored when it stops).
    stored = [_stored_by(m) for m in monitors]
    assert all(n > 0 for n in stored), stored
    assert sum(stored) == total + 1, stored
    log.warning(
        "topology: start %.1f s; %d events through 2 monitors %s in %.1f s; scheduler failover "
        "%.2f s, due draw done %.2f s after the kill",
        started,
        total + 1,
        stored,
        stream_s,
        failover_s,
        draw_s,
    )


def _stored_by(monitor: Proc) -> int:
    needle = "ingest stopped after storing "
    text = monitor.text()
    at = text.rfind(needle)
    assert at >= 0, f"{monitor.name} did not stop cleanly: {text[-600:]}"
    return int(text[at + len(needle) :].split(" ", 1)[0])
