"""The live cache: hits until a change of that enterprise, races, lost feed, TTL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from api.live_cache import LiveCache
from storage.live import LiveChange


class FakeHub:
    def __init__(self) -> None:
        self.connected = asyncio.Event()
        self.connected.set()
        self.listeners: list = []

    def add_listener(self, listener) -> None:  # type: ignore[no-untyped-def]
        self.listeners.append(listener)

    def change(self, ent: str | None) -> None:
        c = LiveChange(1, datetime.now(UTC), "status", ent, {})
        for listener in self.listeners:
            listener(c)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _cache(hub: FakeHub, clock: Clock) -> LiveCache:
    return LiveCache(hub, ttl_s=2.0, clock=clock)  # type: ignore[arg-type]


async def test_hit_until_that_enterprise_changes() -> None:
    hub, clock = FakeHub(), Clock()
    cache = _cache(hub, clock)
    renders = []

    async def render() -> bytes:
        renders.append(1)
        return f"v{len(renders)}".encode()

    assert await cache.get("status", "A", render) == b"v1"
    assert await cache.get("status", "A", render) == b"v1"
    hub.change("B")
    assert await cache.get("status", "A", render) == b"v1"
    hub.change("A")
    assert await cache.get("status", "A", render) == b"v2"
    assert (cache.hits, cache.misses) == (2, 2)


async def test_a_render_racing_a_change_is_not_kept() -> None:
    hub, clock = FakeHub(), Clock()
    cache = _cache(hub, clock)

    async def racing() -> bytes:
        hub.change("A")  # the change commits while we read
        return b"stale"

    async def fresh() -> bytes:
        return b"fresh"

    assert await cache.get("status", "A", racing) == b"stale"
    assert await cache.get("status", "A", fresh) == b"fresh"


async def test_lost_feed_clears_and_bypasses() -> None:
    hub, clock = FakeHub(), Clock()
    cache = _cache(hub, clock)
    n = iter(range(100))

    async def render() -> bytes:
        return str(next(n)).encode()

    await cache.get("status", "A", render)
    hub.connected.clear()
    for listener in hub.listeners:
        listener(None)
    assert await cache.get("status", "A", render) == b"1"
    assert await cache.get("status", "A", render) == b"2"  # not cached while disconnected
    hub.connected.set()
    assert await cache.get("status", "A", render) == b"3"
    assert await cache.get("status", "A", render) == b"3"


async def test_entries_expire() -> None:
    hub, clock = FakeHub(), Clock()
    cache = _cache(hub, clock)
    n = iter(range(100))

    async def render() -> bytes:
        return str(next(n)).encode()

    assert await cache.get("s", "A", render) == b"0"
    clock.now = 1.9
    assert await cache.get("s", "A", render) == b"0"
    clock.now = 2.1
    assert await cache.get("s", "A", render) == b"1"


async def test_refresh_past_ttl_render_past_max_age_or_change() -> None:
    hub, clock = FakeHub(), Clock()
    cache = LiveCache(hub, ttl_s=2.0, max_age_s=30.0, clock=clock)  # type: ignore[arg-type]
    renders: list[int] = []
    refreshed: list[bytes] = []

    async def render() -> bytes:
        renders.append(1)
        return f"v{len(renders)}".encode()

    async def refresh(old: bytes) -> bytes:
        refreshed.append(old)
        return old + b"+"

    assert await cache.get("status", "A", render, refresh) == b"v1"
    clock.now = 1.0
    assert await cache.get("status", "A", render, refresh) == b"v1"  # within the TTL
    clock.now = 3.0
    assert await cache.get("status", "A", render, refresh) == b"v1+"  # aged: refreshed only
    assert refreshed == [b"v1"]
    assert await cache.get("status", "A", render, refresh) == b"v1+"  # fresh again
    clock.now = 31.0
    assert await cache.get("status", "A", render, refresh) == b"v2"  # past max age: rendered
    hub.change("A")
    assert await cache.get("status", "A", render, refresh) == b"v3"  # changed: rendered
    assert (cache.hits, cache.refreshes, cache.misses) == (2, 1, 3)
