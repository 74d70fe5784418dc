"""Constants and helpers shared by the video integration tests."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from domain.credit_code import make_credit_code

ENT = make_credit_code("330100", 600001)
OTHER = make_credit_code("330100", 600002)


async def until(predicate: Callable[[], bool], *, within: float, what: str = "") -> None:
    """Poll `predicate` until it holds; AssertionError when `within` seconds pass first
    (like monitor_support.wait_for)."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what or predicate}")
        await asyncio.sleep(0.05)


def broker_owned_dir() -> Path:
    """A fresh directory Mosquitto can use (started as root, it drops to user `mosquitto`)."""
    path = Path(tempfile.mkdtemp(prefix="swvideo-mq-"))
    if os.geteuid() == 0:
        shutil.chown(path, "mosquitto", "mosquitto")
    return path


def give_to_broker(*paths: Path) -> None:
    """Let the broker's user read generated 0600 files."""
    if os.geteuid() == 0:
        for p in paths:
            shutil.chown(p, "mosquitto", "mosquitto")
