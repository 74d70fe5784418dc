"""复产复验 by video: the decision keeps ended sessions with this site as evidence."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from config.settings import Settings
from tests.integration.apiclient import admin
from tests.integration.monitor_support import (
    Device,
    request_restart,
    running_ingest,
    seed,
    wait_for,
)

SHA = "ab" * 32


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


async def _session(pool, sid: str, ent: str, state: str) -> None:  # type: ignore[no-untyped-def]
    ended = state in ("ended", "failed")
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO video_sessions (id, enterprise_id, requested_by, purpose, state,"
            " failure_reason, ended_at, recording_path, recording_bytes, recording_sha256)"
            " VALUES (%(id)s, %(ent)s, 'duty', 'restart_verification', %(state)s, NULL,"
            " CASE WHEN %(ended)s THEN now() END, %(path)s, 1234, %(sha)s)",
            {
                "id": sid,
                "ent": ent,
                "state": state,
                "ended": ended,
                "path": f"{sid}.webm",
                "sha": SHA,
            },
        )


async def test_decision_keeps_video_evidence(settings: Settings, pool, client: TestClient) -> None:
    ent, other, *_ = await seed(pool, 2)
    h = admin(client)
    dev = Device(settings, ent)
    try:
        async with running_ingest(settings, pool):
            request_restart(dev)

            async def pending() -> bool:
                res = client.get("/api/v1/restart-requests", params={"ent": ent}, headers=h)
                return bool(res.json()["items"])

            await wait_for(pending)
            req = client.get("/api/v1/restart-requests", params={"ent": ent}, headers=h).json()[
                "items"
            ][0]
            await _session(pool, "vs-live", ent, "live")
            await _session(pool, "vs-other", other, "ended")
            await _session(pool, "vs-done", ent, "ended")
            url = f"/api/v1/restart-requests/{req['id']}/approve"
            live = client.post(
                url, json={"reason": "复验合格", "video_session_ids": ["vs-live"]}, headers=h
            )
            assert live.status_code == 409
            assert "请先挂断" in live.json()["error"]["message"]
            foreign = client.post(url, json={"video_session_ids": ["vs-other"]}, headers=h)
            assert foreign.status_code == 422
            ok = client.post(
                url, json={"reason": "视频复验合格", "video_session_ids": ["vs-done"]}, headers=h
            )
            assert ok.status_code == 200, ok.text
            body = ok.json()
            assert body["evidence"] == [
                {"video_session_id": "vs-done", "recording_sha256": SHA, "recording_bytes": 1234}
            ]
            assert body["notice"]["kind"] == "restart_decision"
            audit = client.get(
                "/api/v1/audit", params={"target": f"restart_request:{req['id']}"}, headers=h
            ).json()["items"]
            assert audit[0]["after"]["evidence"][0]["video_session_id"] == "vs-done"
    finally:
        dev.close()
