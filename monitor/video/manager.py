"""The session manager: asks sites for video over MQTT, relays, records, snapshots, times out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiortc.exceptions import InternalError, InvalidAccessError, InvalidStateError, OperationError

from domain.clock import BUREAU_TZ, Clock, utcnow
from domain.credit_code import credit_code_issue
from domain.errors import NotFound, RuleViolation, ValidationFailed
from domain.i18n import EN, msg
from domain.video import (
    NewSession,
    Purpose,
    RecordingInfo,
    SessionLinks,
    SessionState,
    VideoSession,
    VideoSessionId,
    admission_problem,
)
from monitor.video import metrics
from monitor.video.ice import IceServer, rtc_configuration
from monitor.video.recorder import PacketRecorder, encode_jpeg
from monitor.video.sdp import validate_sdp
from monitor.video.session import DEFAULT_LIMITS, LiveSession, VideoLimits
from monitor.video.signalling import (
    HangupMsg,
    SdpMsg,
    Signaller,
    parse_payload,
    parse_topic,
    video_topic,
)
from monitor.video.store import VideoStore
from monitor.video.watchdog import Watchdog

log = logging.getLogger(__name__)

#: What aiortc raises on a description it cannot use.
SDP_ERRORS = (ValueError, InvalidAccessError, InvalidStateError, OperationError, InternalError)
Listener = Callable[[VideoSession], None]


@dataclass(frozen=True, slots=True)
class ViewerAnswer:
    """The answer to a viewer's offer and the id to leave with."""

    viewer_id: str
    sdp: str


class VideoSessionManager:
    """Owns every open session of this process; one instance per API process."""

    def __init__(
        self,
        *,
        store: VideoStore,
        signaller: Signaller,
        topic_prefix: str,
        recordings_dir: Path,
        ice_servers: Sequence[IceServer] = (),
        limits: VideoLimits = DEFAULT_LIMITS,
        record: bool = True,
        relay: str = "packets",
        clock: Clock = utcnow,
        tz: ZoneInfo = BUREAU_TZ,
    ) -> None:
        """Wire the manager; call `start()` before use and `shutdown()` at the end."""
        self._store = store
        self._signaller = signaller
        self._prefix = topic_prefix
        self.recordings_dir = recordings_dir.resolve()
        self._ice = list(ice_servers)
        self.limits = limits
        self._record = record
        if relay not in ("packets", "decoded"):
            raise ValueError("relay must be 'packets' or 'decoded'")
        self._relay = relay
        self._clock = clock
        self._tz = tz
        self._sessions: dict[VideoSessionId, LiveSession] = {}
        #: Who asked for each open session (the per-account cap counts these).
        self._owners: dict[VideoSessionId, str] = {}
        self._listeners: list[Listener] = []
        self._watchdog: Watchdog | None = None
        self._closed = False

    @property
    def ice_servers(self) -> list[IceServer]:
        """The configured ICE servers (also handed to browsers)."""
        return list(self._ice)

    @property
    def signalling_connected(self) -> bool:
        """Whether the signalling link to the broker is up now."""
        return self._signaller.connected

    def live(self, session_id: str) -> LiveSession | None:
        """The in-memory state of an open session."""
        return self._sessions.get(VideoSessionId(session_id))

    def open_sessions(self) -> list[LiveSession]:
        """Every open session."""
        return list(self._sessions.values())

    def add_listener(self, listener: Listener) -> None:
        """Call `listener(session)` after every state change (e.g. the WebSocket push)."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Fail sessions a dead process left open and start the timeout watchdog."""
        self._watchdog = Watchdog(
            store=self._store,
            limits=self.limits,
            clock=self._clock,
            sessions=self._sessions.values,
            finish=self._finish_timed_out,
        )
        await self._watchdog.start()

    async def shutdown(self) -> None:
        """End every session (the sites are told) and stop the watchdog."""
        self._closed = True
        if self._watchdog is not None:
            await self._watchdog.stop()
        for live in list(self._sessions.values()):
            with contextlib.suppress(Exception):
                await self._finish(
                    live, SessionState.ENDED, "the server shut down", notify_site=True
                )

    async def request(
        self,
        *,
        enterprise: str,
        requested_by: str,
        purpose: Purpose,
        note: str = "",
        links: SessionLinks | None = None,
        may_use_reserve: bool = True,
        actor: object | None = None,
    ) -> VideoSession:
        """Store a session and ask the site for video; its state then moves on by itself.
        `may_use_reserve` is False for accounts that are not duty staff; `actor` (opaque here)
        is handed to the store, which records the person's action with the row."""
        issue = credit_code_issue(enterprise)
        if issue is not None:
            raise ValidationFailed(
                msg("video.enterprise_invalid", problem=issue), details={"field": "enterprise"}
            )
        if self._closed:
            raise RuleViolation(msg("video.shutting_down"))
        full = admission_problem(
            open_total=len(self._sessions),
            open_by_requester=sum(1 for s in self._sessions if self._owners.get(s) == requested_by),
            max_sessions=self.limits.max_sessions,
            max_per_user=self.limits.max_per_user,
            duty_reserve=self.limits.duty_reserve,
            may_use_reserve=may_use_reserve,
        )
        if full is not None:
            raise RuleViolation(
                msg("video.too_many_sessions", problem=full),
                details={"limit": self.limits.max_sessions},
            )
        sid = VideoSessionId(uuid.uuid4().hex)
        live = LiveSession(
            sid,
            enterprise,
            SessionState.REQUESTED,
            f"video {sid[:8]} {enterprise}",
            relay_mode=self._relay,
        )
        self._sessions[sid] = live  # reserve the slot before any await
        self._owners[sid] = requested_by
        metrics.SESSIONS_OPEN.set(len(self._sessions))
        now = self._clock()
        try:
            row = await self._store.create(
                NewSession(
                    sid, enterprise, requested_by, purpose, note, links or SessionLinks(), now
                ),
                actor=actor,
            )
        except BaseException:
            self._sessions.pop(sid, None)
            self._owners.pop(sid, None)
            metrics.SESSIONS_OPEN.set(len(self._sessions))
            raise
        log.info("[%s] requested by %s for %s", live.label, requested_by, purpose.value)
        self._notify(row)
        payload = {
            "session_id": sid,
            "ts": now.isoformat(),
            "requested_by": requested_by,
            "purpose": purpose.value,
        }
        try:
            await self._signaller.publish(video_topic(self._prefix, enterprise, "request"), payload)
        except (ConnectionError, OSError) as exc:
            return await self._finish(
                live, SessionState.FAILED, f"cannot reach the MQTT broker: {exc}", notify_site=False
            )
        return row

    async def handle_message(self, topic: str, payload: bytes) -> None:
        """Inbound signalling from sites (offer, hangup); bad messages are logged and refused."""
        try:
            parsed = parse_topic(self._prefix, topic)
            if parsed.kind == "offer":
                await self._on_offer(parsed.enterprise, parse_payload(SdpMsg, payload))
            elif parsed.kind == "hangup":
                await self._on_site_hangup(parsed.enterprise, parse_payload(HangupMsg, payload))
        except ValidationFailed as exc:
            log.warning("refused video message on %s: %s", topic[:120], exc.message[:200])

    async def add_viewer(self, session_id: str, offer_sdp: str) -> ViewerAnswer:
        """Answer a viewer's SDP offer with the site's relayed video (waits briefly for it)."""
        validate_sdp(offer_sdp, kind="offer")
        live = self._require_open(session_id)
        if len(live.viewers) >= self.limits.max_viewers:
            raise RuleViolation(msg("video.viewer_limit", count=len(live.viewers)))
        try:
            async with asyncio.timeout(self.limits.answer_timeout_s):
                await live.first_frame.wait()
        except TimeoutError:
            raise RuleViolation(msg("video.site_not_sending")) from None
        if live.closing or live.site_track is None:
            raise RuleViolation(msg("video.ended_before_join"))
        viewer_id = uuid.uuid4().hex[:12]
        try:
            viewer, answer = await live.add_viewer(
                viewer_id, offer_sdp, rtc_configuration(self._ice)
            )
        except SDP_ERRORS as exc:
            raise ValidationFailed(
                msg("video.offer_unusable", exc=exc), details={"field": "sdp"}
            ) from None

        @viewer.pc.on("connectionstatechange")
        async def on_state() -> None:
            if viewer.pc.connectionState in ("failed", "closed"):
                await live.drop_viewer(viewer_id)

        log.info("[%s] viewer %s joined (%d watching)", live.label, viewer_id, len(live.viewers))
        return ViewerAnswer(viewer_id, answer)

    async def drop_viewer(self, session_id: str, viewer_id: str) -> None:
        """A viewer leaves; the session stays up for the others."""
        live = self._require_open(session_id)
        if viewer_id not in live.viewers:
            raise NotFound(
                msg("video.viewer_not_found", viewer_id=viewer_id, session_id=session_id)
            )
        await live.drop_viewer(viewer_id)

    async def snapshot(self, session_id: str) -> bytes:
        """JPEG of the newest frame of an open session."""
        live = self._require_open(session_id)
        frame = live.latest_frame
        if frame is None:
            raise NotFound(msg("video.no_frame_yet"))
        return await asyncio.to_thread(encode_jpeg, frame)

    async def hangup(
        self, session_id: str, *, reason: str, actor: object | None = None
    ) -> VideoSession:
        """End a session (idempotent: an ended session is returned as it is, nothing is
        written); `actor` is handed to the store with the end."""
        live = self._sessions.get(VideoSessionId(session_id))
        if live is None:
            row = await self._store.get(VideoSessionId(session_id))
            if row is None:
                raise NotFound(msg("video.session_not_found", session_id=session_id))
            return row
        return await self._finish(live, SessionState.ENDED, reason, notify_site=True, actor=actor)

    def recording_file(self, relative: str) -> Path:
        """Absolute path of a stored recording path; refuses anything outside the recordings dir."""
        path = (self.recordings_dir / relative).resolve()
        if not path.is_relative_to(self.recordings_dir):
            raise NotFound(msg("video.recording_not_found"))
        return path

    # internals

    def _require_open(self, session_id: str) -> LiveSession:
        live = self._sessions.get(VideoSessionId(session_id))
        if live is None or live.closing:
            raise NotFound(msg("video.session_not_open", session_id=session_id))
        return live

    async def _on_offer(self, enterprise: str, msg: SdpMsg) -> None:
        live = self._sessions.get(VideoSessionId(msg.session_id))
        if live is None or live.enterprise != enterprise or msg.type != "offer":
            # Another API process may own it (every process sees every offer): stay quiet.
            log.debug("offer for session %s, which this process does not run", msg.session_id)
            return
        answer = await self._accept_offer(live, msg.sdp)
        if answer is not None:
            await self._signaller.publish(
                video_topic(self._prefix, enterprise, "answer"),
                {"session_id": live.id, "type": "answer", "sdp": answer},
            )
            log.info("[%s] answered the site's offer", live.label)

    async def answer_phone(self, *, session_id: str, enterprise: str, offer_sdp: str) -> str:
        """The enterprise answers a request from a phone's browser instead of a site agent:
        its SDP offer (rear camera, talkback audio received) in, the answer out. The session,
        relay, recording and evidence are the agent's."""
        live = self._sessions.get(VideoSessionId(session_id))
        if live is None or live.enterprise != enterprise or live.closing:
            raise NotFound(msg("video.not_waiting_for_enterprise", session_id=session_id))
        validate_sdp(offer_sdp, kind="offer")  # a bad offer is the phone's 422, not the end
        answer = await self._accept_offer(live, offer_sdp)
        if answer is None:
            raise RuleViolation(msg("video.already_answered"))
        log.info("[%s] answered the phone's offer", live.label)
        return answer

    async def _accept_offer(self, live: LiveSession, sdp: str) -> str | None:
        """Open the site side of a requested session; the answer, or None when the offer came
        too late or could not be used (the session then failed and the site was told)."""
        enterprise = live.enterprise
        async with live.lock:
            if live.state is not SessionState.REQUESTED or live.closing:
                log.info("[%s] ignored a repeated offer", live.label)
                return None
            try:
                validate_sdp(sdp, kind="offer")
            except ValidationFailed as exc:
                # Technical English like the MQTT reject reasons (docs/protocol.md).
                await self._reject(enterprise, live.id, exc.code, exc.text(EN))
                await self._finish(
                    live,
                    SessionState.FAILED,
                    f"the site sent an unusable offer: {exc.text(EN)}",
                    notify_site=True,
                )
                return None
            await self._set_state(live, SessionState.CONNECTING)
            live.connecting_mono = time.monotonic()
            recorder = (
                PacketRecorder(self.recordings_dir / self._recording_name(live), label=live.label)
                if self._record
                else None
            )
            try:
                answer = await live.open_site(sdp, rtc_configuration(self._ice), recorder)
            except SDP_ERRORS as exc:
                await self._finish(
                    live,
                    SessionState.FAILED,
                    f"the site's offer cannot be used: {exc}",
                    notify_site=True,
                )
                return None
            if live.closing:
                return None
            pc = live.site_pc
            assert pc is not None

            @pc.on("connectionstatechange")
            async def on_state() -> None:
                if pc.connectionState == "failed" and not live.closing:
                    await self._finish(
                        live,
                        SessionState.FAILED,
                        "the connection to the site failed (ICE/DTLS)",
                        notify_site=True,
                    )

            live.spawn(self._await_live(live))
            return answer

    async def _await_live(self, live: LiveSession) -> None:
        await live.first_frame.wait()
        if live.closing:
            return
        live.live_mono = time.monotonic()
        metrics.REQUEST_TO_LIVE.observe(live.live_mono - live.requested_mono)
        if not live.viewers:
            live.idle_since = live.live_mono
        await self._set_state(live, SessionState.LIVE)
        log.info(
            "[%s] live %.2f s after the request", live.label, live.live_mono - live.requested_mono
        )

    async def _on_site_hangup(self, enterprise: str, msg: HangupMsg) -> None:
        if msg.by == "server":
            return  # our own hangup echoed back on the shared topic
        live = self._sessions.get(VideoSessionId(msg.session_id))
        if live is None or live.enterprise != enterprise:
            return
        why = msg.reason or "no reason given"
        if live.state is SessionState.LIVE:
            await self._finish(
                live, SessionState.ENDED, f"the site hung up: {why}", notify_site=False
            )
        else:
            await self._finish(
                live, SessionState.FAILED, f"the site declined: {why}", notify_site=False
            )

    async def _finish(
        self,
        live: LiveSession,
        state: SessionState,
        reason: str,
        *,
        notify_site: bool,
        actor: object | None = None,
    ) -> VideoSession:
        """Release everything a session holds, store its outcome, tell the site (once)."""
        if live.closing:
            await live.done.wait()
            row = await self._store.get(live.id)
            assert row is not None
            return row
        live.closing = True
        log.info("[%s] %s: %s", live.label, state.value, reason)
        try:
            await live.close_media()
            if live.recorder is not None:
                result = await asyncio.to_thread(live.recorder.stop)
                metrics.RECORDED_BYTES.inc(result.size_bytes)
                if result.frames:
                    rel = result.path.relative_to(self.recordings_dir).as_posix()
                    await self._store.set_recording(
                        live.id,
                        RecordingInfo(rel, result.size_bytes, result.duration_s, result.sha256),
                    )
                else:
                    result.path.unlink(missing_ok=True)
            row = await self._store.set_state(
                live.id, state, at=self._clock(), reason=reason, actor=actor
            )
            live.state = state
        finally:
            self._sessions.pop(live.id, None)
            self._owners.pop(live.id, None)
            live.done.set()
            metrics.SESSIONS_OPEN.set(len(self._sessions))
            metrics.SESSIONS_ENDED.labels(state.value).inc()
        if notify_site:
            try:
                await self._signaller.publish(
                    video_topic(self._prefix, live.enterprise, "hangup"),
                    {"session_id": live.id, "reason": reason, "by": "server"},
                )
            except (ConnectionError, OSError) as exc:
                log.warning("[%s] could not tell the site to hang up: %s", live.label, exc)
        self._notify(row)
        return row

    async def _finish_timed_out(self, live: LiveSession, state: SessionState, reason: str) -> None:
        await self._finish(live, state, reason, notify_site=True)

    async def _set_state(self, live: LiveSession, state: SessionState) -> None:
        row = await self._store.set_state(live.id, state, at=self._clock())
        live.state = state
        self._notify(row)

    async def _reject(self, enterprise: str, ref: str | None, code: str, reason: str) -> None:
        topic = f"{self._prefix}/ent/{enterprise}/reject"
        refused = video_topic(self._prefix, enterprise, "offer")
        body: dict[str, Any] = {"ref": ref, "topic": refused, "code": code, "reason": reason[:500]}
        with contextlib.suppress(ConnectionError, OSError):
            await self._signaller.publish(topic, body)

    def _recording_name(self, live: LiveSession) -> str:
        day = self._clock().astimezone(self._tz)
        return f"{day:%Y/%m/%d}/{live.enterprise}-{live.id}.webm"

    def _notify(self, row: VideoSession) -> None:
        for listener in self._listeners:
            try:
                listener(row)
            except Exception:
                log.exception("video session listener failed")
