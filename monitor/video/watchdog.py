"""The watchdog of open sessions: timeouts, and heartbeats that reveal orphaned sessions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from domain.clock import Clock
from domain.errors import SafewatchError
from domain.video import SessionState
from monitor.video.session import LiveSession, VideoLimits
from monitor.video.store import VideoStore

log = logging.getLogger(__name__)

Finish = Callable[[LiveSession, SessionState, str], Coroutine[Any, Any, None]]


class Watchdog:
    """Ends sessions that overstay a limit; marks ours alive and fails those nobody marks."""

    def __init__(
        self,
        *,
        store: VideoStore,
        limits: VideoLimits,
        clock: Clock,
        sessions: Callable[[], Iterable[LiveSession]],
        finish: Finish,
    ) -> None:
        """Watch `sessions()`; `finish(session, state, reason)` ends one."""
        self._store = store
        self._limits = limits
        self._clock = clock
        self._sessions = sessions
        self._finish = finish
        self._task: asyncio.Task[None] | None = None
        self._finishing: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Fail what a dead process left open, then watch in the background."""
        await self.heartbeat()
        self._task = asyncio.create_task(self._run(), name="video-watchdog")

    async def stop(self) -> None:
        """Stop watching; wait for sessions it is ending."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._finishing:
            await asyncio.gather(*self._finishing, return_exceptions=True)

    async def heartbeat(self) -> None:
        """Mark our open sessions alive; fail those whose process stopped marking them."""
        lim = self._limits
        try:
            at = self._clock()
            ids = [live.id for live in self._sessions()]
            if ids:
                await self._store.touch(ids, at=at)
            reason = (
                f"the server running the session stopped (no heartbeat for {lim.stale_after_s:g} s)"
            )
            stale = await self._store.fail_stale(reason, at=at, stale_after_s=lim.stale_after_s)
            if stale:
                log.warning("failed %d video session(s) left open by a stopped server", stale)
        except SafewatchError as exc:
            log.error("video heartbeat failed: %s", exc.message)

    async def _run(self) -> None:
        lim = self._limits
        tick = max(0.05, min(1.0, lim.answer_timeout_s / 10, lim.heartbeat_s / 2))
        last_beat = time.monotonic()
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            if now - last_beat >= lim.heartbeat_s:
                last_beat = now
                await self.heartbeat()
            for live in list(self._sessions()):
                verdict = None if live.closing else overdue(live, lim, now)
                if verdict is not None:
                    task = asyncio.create_task(self._finish(live, *verdict))
                    self._finishing.add(task)
                    task.add_done_callback(self._finishing.discard)


def overdue(live: LiveSession, lim: VideoLimits, now: float) -> tuple[SessionState, str] | None:
    """The (state, reason) a session must end with now, or None while it is within its limits."""
    if live.state is SessionState.REQUESTED and now - live.requested_mono > lim.answer_timeout_s:
        return SessionState.FAILED, (
            f"the site did not answer within {lim.answer_timeout_s:g} s "
            "(site agent offline or not running)"
        )
    if (
        live.state is SessionState.CONNECTING
        and live.connecting_mono is not None
        and now - live.connecting_mono > lim.answer_timeout_s
    ):
        return SessionState.FAILED, (
            f"no video from the site within {lim.answer_timeout_s:g} s of its offer "
            "(network or NAT in the way? configure TURN, see docs/video.md)"
        )
    if (
        live.state is SessionState.LIVE
        and live.last_frame_mono is not None
        and now - live.last_frame_mono > lim.media_timeout_s
    ):
        return (
            SessionState.FAILED,
            f"the site stopped sending video for {lim.media_timeout_s:g} s",
        )
    if (
        live.state is SessionState.LIVE
        and live.idle_since is not None
        and now - live.idle_since > lim.idle_timeout_s
    ):
        return SessionState.ENDED, f"idle: nobody watched for {lim.idle_timeout_s:g} s"
    return None
