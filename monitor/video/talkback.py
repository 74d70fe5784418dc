"""Talkback: the duty officer's microphone relayed to the site, and the site's end that hears it."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import math
from array import array
from pathlib import Path
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

log = logging.getLogger(__name__)

#: About half a second of 20 ms frames; older audio is dropped rather than delayed.
QUEUE_FRAMES = 25


def rms_level(frame: av.AudioFrame) -> float:
    """Root-mean-square level of a 16-bit frame, 0.0 (silence) … 1.0 (full scale)."""
    if frame.format.name != "s16":
        frame = av.AudioResampler(format="s16", layout=frame.layout.name).resample(frame)[0]
    samples = array("h", bytes(frame.planes[0]))[::4]  # every 4th sample is plenty for a level
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768.0


class TalkbackTrack(MediaStreamTrack):
    """The audio track sent to the site: frames of the first viewer who talks, re-timed.

    Every viewer microphone is drained (so none piles up in memory); only the owner's frames
    are forwarded. When the owner leaves, the next attached viewer takes over.
    """

    kind = "audio"

    def __init__(self, *, label: str = "") -> None:
        """Create a silent track; nothing is sent until a viewer's microphone is attached."""
        super().__init__()
        self._label = label
        self._queue: asyncio.Queue[av.AudioFrame | None] = asyncio.Queue(maxsize=QUEUE_FRAMES)
        self._sources: dict[MediaStreamTrack, asyncio.Task[None]] = {}
        self._owner: MediaStreamTrack | None = None
        self._pts = 0
        self.frames_forwarded = 0

    def attach(self, source: MediaStreamTrack) -> None:
        """Start draining a viewer's microphone track; the first one attached talks."""
        if source in self._sources or self.readyState != "live":
            return
        self._sources[source] = asyncio.ensure_future(self._pump(source))
        if self._owner is None:
            self._owner = source

    def detach(self, source: MediaStreamTrack) -> None:
        """Stop draining `source`; hand the floor to another viewer if it held it."""
        task = self._sources.pop(source, None)
        if task is not None:
            task.cancel()
        if self._owner is source:
            self._owner = next(iter(self._sources), None)

    @property
    def sources(self) -> int:
        """How many viewer microphones are attached."""
        return len(self._sources)

    async def _pump(self, source: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await source.recv()
                if source is not self._owner or not isinstance(frame, av.AudioFrame):
                    continue
                if self._queue.full():
                    with contextlib.suppress(asyncio.QueueEmpty):
                        self._queue.get_nowait()
                self._queue.put_nowait(frame)
        except MediaStreamError:
            pass
        finally:
            if self._sources.get(source) is asyncio.current_task():
                self.detach(source)

    async def recv(self) -> av.AudioFrame:
        """The next talkback frame (waits while nobody talks)."""
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self._queue.get()
        if frame is None:
            raise MediaStreamError
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, frame.sample_rate)
        self._pts += frame.samples
        self.frames_forwarded += 1
        return frame

    def stop(self) -> None:
        """End the track and stop draining every source."""
        for source in list(self._sources):
            self.detach(source)
        if self.readyState == "live":
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(None)
        super().stop()


class TalkbackSink:
    """The site's end: consumes the talkback track, measures it, and plays or records it."""

    def __init__(self, mode: str = "discard", *, label: str = "") -> None:
        """`mode`: discard, play (ALSA default device) or record:PATH (WAV)."""
        self._mode = mode
        self._label = label
        self._task: asyncio.Task[None] | None = None
        self.frames = 0
        self.voiced_frames = 0
        self.peak_level = 0.0

    def start(self, track: MediaStreamTrack) -> None:
        """Begin consuming `track`."""
        self._task = asyncio.ensure_future(self._run(track))

    async def stop(self) -> None:
        """Stop consuming and close the output."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, track: MediaStreamTrack) -> None:
        output: Any = None
        stream: Any = None
        try:
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.AudioFrame):
                    continue
                level = rms_level(frame)
                self.frames += 1
                self.peak_level = max(self.peak_level, level)
                if level > 0.01:
                    self.voiced_frames += 1
                if output is None and self._mode != "discard":
                    output, stream = self._open(frame)
                    if output is None:
                        self._mode = "discard"
                if stream is not None:
                    for packet in stream.encode(frame):
                        output.mux(packet)
        except MediaStreamError:
            pass
        finally:
            if output is not None:
                with contextlib.suppress(av.FFmpegError, OSError):
                    output.close()
            log.info(
                "[%s] talkback: %d frames, %d with voice, peak %.3f",
                self._label,
                self.frames,
                self.voiced_frames,
                self.peak_level,
            )

    def _open(self, frame: av.AudioFrame) -> tuple[Any, Any]:
        try:
            if self._mode == "play":
                output = av.open("default", "w", format="alsa")
                stream = output.add_stream("pcm_s16le", rate=frame.sample_rate)
            elif self._mode.startswith("record:"):
                path = Path(self._mode.removeprefix("record:"))
                path.parent.mkdir(parents=True, exist_ok=True)
                output = av.open(str(path), "w", format="wav")
                stream = output.add_stream("pcm_s16le", rate=frame.sample_rate)
            else:
                return None, None
            stream.layout = frame.layout.name
            return output, stream
        except (av.FFmpegError, OSError) as exc:
            log.warning(
                "[%s] talkback output %s unavailable (%s); discarding audio",
                self._label,
                self._mode,
                exc,
            )
            return None, None
