"""Child processes of bench/video.py: the server (session manager), the sites, the viewers.

Each runs its own asyncio loop and answers the orchestrator's commands over a pipe, so the
three parts use separate interpreters (and GILs), as they would on separate machines.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aioice.ice
import av
from aiortc.contrib.media import MediaRecorder

from domain.video import Purpose
from monitor.video.agent import AgentConfig, SiteAgent, run_agent
from monitor.video.manager import VideoSessionManager
from monitor.video.mqtt import MqttLink, MqttOptions, MqttSignaller
from monitor.video.probe import ProbeViewer
from monitor.video.session import VideoLimits
from monitor.video.signalling import server_subscriptions
from monitor.video.store import MemoryVideoStore

BROKER = ("127.0.0.1", 1883)


def child_main(role: str, conn: Connection, cfg: dict[str, Any]) -> None:
    """Entry point of a child process."""
    logging.basicConfig(level=logging.WARNING)
    # All parts share this machine: offer loopback candidates (aioice skips them otherwise).
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
    asyncio.run(_serve(role, conn, cfg))


async def _serve(role: str, conn: Connection, cfg: dict[str, Any]) -> None:
    impl: Any = {"server": Server, "sites": Sites, "viewers": Viewers}[role](cfg)
    await impl.start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def reader() -> None:
        while True:
            name, *args = conn.recv()
            if name == "stop":
                loop.call_soon_threadsafe(stop.set)
                conn.send(("ok", None))
                return
            fut = asyncio.run_coroutine_threadsafe(getattr(impl, name)(*args), loop)
            try:
                conn.send(("ok", fut.result()))
            except Exception as exc:
                conn.send(("err", f"{exc.__class__.__name__}: {exc}"))

    threading.Thread(target=reader, daemon=True).start()
    await stop.wait()
    await impl.close()


class Server:
    """The session manager with its MQTT link; the store is in memory (not what is measured)."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.media_recorders: dict[str, tuple[MediaRecorder, Path]] = {}

    async def start(self) -> None:
        holder: list[VideoSessionManager] = []

        async def inbound(topic: str, payload: bytes) -> None:
            await holder[0].handle_message(topic, payload)

        opts = MqttOptions(host=BROKER[0], port=BROKER[1], client_id=f"bench-server-{id(self)}")
        self.link = MqttLink(opts, server_subscriptions(self.cfg["prefix"]), inbound)
        self.manager = VideoSessionManager(
            store=MemoryVideoStore(),
            signaller=MqttSignaller(self.link),
            topic_prefix=self.cfg["prefix"],
            recordings_dir=Path(self.cfg["recordings"]),
            limits=VideoLimits(
                max_sessions=64, answer_timeout_s=30, media_timeout_s=60, idle_timeout_s=3600
            ),
        )
        holder.append(self.manager)
        await self.link.start()
        await self.manager.start()

    async def request(self, enterprise: str, record: str, relay: str) -> str:
        self.manager._record = record == "packets"
        self.manager._relay = relay
        row = await self.manager.request(
            enterprise=enterprise, requested_by="bench", purpose=Purpose.OTHER
        )
        return str(row.id)

    async def wait_live(self, sid: str, record: str) -> float:
        live = self.manager.live(sid)
        assert live is not None
        await asyncio.wait_for(live.first_frame.wait(), 30)
        took = time.monotonic() - live.requested_mono
        if record.startswith("mediarecorder"):
            assert live.site_track is not None
            suffix = ".webm" if record.endswith("webm") else ".mp4"
            path = Path(self.cfg["recordings"]) / f"{sid}{suffix}"
            recorder = MediaRecorder(str(path))
            recorder.addTrack(live.relay.subscribe(live.site_track))
            await recorder.start()
            self.media_recorders[sid] = (recorder, path)
        return took

    async def viewer(self, sid: str, sdp: str) -> str:
        return (await self.manager.add_viewer(sid, sdp)).sdp

    async def hangup(self, sid: str) -> dict[str, Any]:
        if sid in self.media_recorders:
            recorder, path = self.media_recorders.pop(sid)
            await recorder.stop()
            row = await self.manager.hangup(sid, reason="bench")
            rel = str(path)
        else:
            row = await self.manager.hangup(sid, reason="bench")
            rel = str(self.manager.recording_file(row.recording_path)) if row.recording_path else ""
        out: dict[str, Any] = {"session_s": None, "file_s": None, "bytes": None}
        if row.live_at and row.ended_at:
            out["session_s"] = (row.ended_at - row.live_at).total_seconds()
        if rel:
            out.update(await asyncio.to_thread(probe_file, Path(rel)))
        return out

    async def close(self) -> None:
        await self.manager.shutdown()
        await self.link.stop()


def probe_file(path: Path) -> dict[str, Any]:
    """Duration, decodable frames and size of a recording."""
    frames = errors = 0
    with av.open(str(path)) as container:
        seconds = container.duration / 1e6 if container.duration else None
        for packet in container.demux(video=0):
            try:
                frames += len(packet.decode())
            except av.FFmpegError:
                errors += 1
    return {
        "file_s": seconds,
        "frames": frames,
        "decode_errors": errors,
        "bytes": path.stat().st_size,
    }


class Sites:
    """Site agents with the test pattern, one per enterprise."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[SiteAgent]] = []

    async def start(self) -> None:
        pass

    async def add(self, enterprise: str) -> None:
        ready: asyncio.Future[SiteAgent] = asyncio.get_running_loop().create_future()
        config = AgentConfig(
            enterprise=enterprise, topic_prefix=self.cfg["prefix"], talkback="discard"
        )
        opts = MqttOptions(host=BROKER[0], port=BROKER[1], client_id=f"bench-{enterprise}")
        self.tasks.append(asyncio.create_task(run_agent(config, opts, self.stop, ready=ready)))
        await asyncio.wait_for(ready, 10)

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class Viewers:
    """Probe viewers: decode every frame and read the capture time drawn into it."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.viewers: dict[str, ProbeViewer] = {}

    async def start(self) -> None:
        pass

    async def offer(self, key: str) -> str:
        self.viewers[key] = ProbeViewer(talk=False)
        return await self.viewers[key].offer()

    async def accept(self, key: str, sdp: str) -> None:
        await self.viewers[key].accept(sdp)

    async def wait_frames(self, key: str, count: int, within: float) -> dict[str, float | None]:
        v = self.viewers[key]
        await v.wait_frames(count, within=within)
        return {
            "connected_s": v.connected_at - v.started if v.connected_at else None,
            "first_frame_s": v.first_frame_at - v.started if v.first_frame_at else None,
        }

    async def window(self, seconds: float) -> list[dict[str, Any]]:
        """Per viewer: fps and glass-to-glass samples over the last `seconds`."""
        now = time.monotonic()
        out = []
        for key, v in self.viewers.items():
            recent = [t for t in v.frame_times if t > now - seconds]
            lat = v.latencies_ms[-len(recent) :] if recent else []
            out.append(
                {
                    "key": key,
                    "fps": len(recent) / seconds,
                    "latency_ms": lat,
                    "stamped": v.stamped,
                    "frames": v.frames,
                }
            )
        return out

    async def close_viewer(self, key: str) -> None:
        await self.viewers.pop(key).close()

    async def close(self) -> None:
        for v in self.viewers.values():
            await v.close()
