"""Constants and helpers shared by the video integration tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from domain.credit_code import make_credit_code

ENT = make_credit_code("330100", 600001)
OTHER = make_credit_code("330100", 600002)


async def until(predicate: Callable[[], bool], *, within: float) -> None:
    """Poll `predicate` until it holds or `within` seconds pass."""
    deadline = time.monotonic() + within
    for _ in range(int(within / 0.05) + 1):
        if predicate() or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.05)
