"""The monitor process: the MQTT ingest loop (watchdogs run in the scheduler)."""

from __future__ import annotations

import asyncio

from config.policy import Policies
from config.settings import Settings
from monitor import ingest


async def run_monitor(
    settings: Settings, stop: asyncio.Event, *, policies: Policies | None = None
) -> None:
    """Run the MQTT ingest until `stop` is set."""
    await ingest.run(settings, stop, policy=policies.monitoring if policies else None)
