"""Fixtures shared by the video integration tests (a pytest plugin: `pytest_plugins`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aioice.ice
import pytest
from psycopg_pool import AsyncConnectionPool

from config.settings import Settings
from monitor.video.agent import AgentConfig, SiteAgent, run_agent
from monitor.video.mqtt import MqttOptions
from tests.integration.video_helpers import ENT, OTHER


@pytest.fixture
def video_loopback_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    """aioice skips loopback; give every peer 127.0.0.1 so tests need no real interface."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


@pytest.fixture
def video_settings(settings: Settings) -> Settings:
    """Settings with a short site answer timeout and room for two sessions."""
    return settings.model_copy(update={"video_answer_timeout_s": 3.0, "video_max_sessions": 2})


@pytest.fixture
async def video_sites(pool: AsyncConnectionPool) -> list[str]:
    """Two enterprises in the directory."""
    async with pool.connection() as conn:
        for code in (ENT, OTHER):
            await conn.execute(
                "INSERT INTO enterprises (credit_code, name, county, sector) "
                "VALUES (%(c)s, %(n)s, '西湖区', 'chemical')",
                {"c": code, "n": f"测试化工 {code[-4:]}"},
            )
    return [ENT, OTHER]


@pytest.fixture
async def video_agent(video_settings: Settings, tmp_path: Path) -> AsyncIterator[SiteAgent]:
    """A site agent for ENT with the test pattern, recording talkback to tmp_path."""
    stop = asyncio.Event()
    ready: asyncio.Future[SiteAgent] = asyncio.get_running_loop().create_future()
    config = AgentConfig(
        enterprise=ENT,
        topic_prefix=video_settings.mqtt_topic_prefix,
        talkback="record:" + str(tmp_path / "talkback.wav"),
    )
    options = MqttOptions(
        host=video_settings.mqtt_host,
        port=video_settings.mqtt_port,
        client_id=f"agent-{ENT}-{id(stop)}",
    )
    task = asyncio.create_task(run_agent(config, options, stop, ready=ready))
    site = await asyncio.wait_for(ready, 10)
    yield site
    stop.set()
    await asyncio.wait_for(task, 10)
