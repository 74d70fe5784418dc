"""Rendered responses per enterprise, kept only while the change feed says nothing changed.

Every live change of an enterprise drops its entries; a lost LISTEN connection drops all and
disables the cache until listening resumes; entries also expire after a short TTL because some
state (e.g. "online") is derived from the clock — a caller may then refresh only that part
(one cheap read) instead of rendering again, up to a maximum age. A render that raced with a
change is not kept (per-enterprise generation numbers), so a stale answer can only be served
for the instant between a commit and its notification — the same instant a dashboard sees.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from api.live_hub import LiveHub
from storage.live import LiveChange

Render = Callable[[], Awaitable[bytes]]
#: Brings an expired body up to date cheaply (e.g. re-reads only the clock-derived part).
Refresh = Callable[[bytes], Awaitable[bytes]]


class LiveCache:
    """A small LRU of rendered bodies keyed by (name, enterprise)."""

    def __init__(
        self,
        hub: LiveHub | None,
        *,
        ttl_s: float = 2.0,
        max_age_s: float = 300.0,
        max_entries: int = 20_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._hub = hub
        self._ttl = ttl_s
        self._max_age = max_age_s
        self._max = max_entries
        self._clock = clock
        # key → (expires, stamp, body, rendered at)
        self._entries: OrderedDict[tuple[str, str], tuple[float, int, bytes, float]] = OrderedDict()
        self._generation: dict[str, int] = {}
        self._epoch = 0
        self.hits = self.misses = self.refreshes = 0
        if hub is not None:
            hub.add_listener(self.on_change)

    def on_change(self, change: LiveChange | None) -> None:
        """Drop what a change may have made stale (everything when changes were missed)."""
        if change is None or change.enterprise_id is None:
            self._epoch += 1
            self._entries.clear()
            self._generation.clear()
            return
        ent = change.enterprise_id
        self._generation[ent] = self._generation.get(ent, 0) + 1
        for key in [k for k in self._entries if k[1] == ent]:
            del self._entries[key]

    def _usable(self) -> bool:
        return self._hub is None or self._hub.connected.is_set()

    def _stamp(self, enterprise_id: str) -> int:
        return self._epoch * 1_000_003 + self._generation.get(enterprise_id, 0)

    async def get(
        self, name: str, enterprise_id: str, render: Render, refresh: Refresh | None = None
    ) -> bytes:
        """The cached body, or `render()` (kept unless a change arrived while rendering).

        With `refresh`, a body past its TTL but younger than `max_age_s` whose enterprise has
        not changed is passed to `refresh` instead of being rendered again from scratch.
        """
        key = (name, enterprise_id)
        now = self._clock()
        found = self._entries.get(key) if self._usable() else None
        stamp = self._stamp(enterprise_id)
        if found is not None and found[1] == stamp:
            if found[0] > now:
                self._entries.move_to_end(key)
                self.hits += 1
                return found[2]
            if refresh is not None and now - found[3] < self._max_age:
                self.refreshes += 1
                body = await refresh(found[2])
                self._keep(key, stamp, body, now, found[3])
                return body
        self.misses += 1
        body = await render()
        self._keep(key, stamp, body, now, now)
        return body

    def _keep(self, key: tuple[str, str], stamp: int, body: bytes, now: float, born: float) -> None:
        """Store unless a change of that enterprise arrived while the body was being made."""
        if self._usable() and stamp == self._stamp(key[1]):
            self._entries[key] = (now + self._ttl, stamp, body, born)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
