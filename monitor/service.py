"""The monitor process: MQTT ingest loop and its watchdogs."""

from __future__ import annotations

import asyncio
import logging

from config.settings import Settings

log = logging.getLogger(__name__)


async def run_monitor(settings: Settings, stop: asyncio.Event) -> None:
    """Run the MQTT ingest until `stop` is set (the ingest loop lives in monitor/ingest.py)."""
    import importlib

    try:
        ingest = importlib.import_module("monitor.ingest")
    except ModuleNotFoundError:
        log.warning("monitor: ingest is not available in this build; idle until stopped")
        await stop.wait()
        return
    await ingest.run(settings, stop)
