"""Video sources a site agent can serve: test pattern, RTSP camera, V4L2 device, looped file."""

from __future__ import annotations

import asyncio
import fractions
import re
from pathlib import Path

import av
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from domain.errors import ValidationFailed
from domain.i18n import msg
from monitor.video.pattern import PatternTrack

_PATTERN = re.compile(r"^pattern(?::(\d+)x(\d+)(?:@(\d+))?)?$")
_CLOCK = 90000


def check_camera(camera: str) -> str:
    """Return `camera` if it names a usable source kind; ValidationFailed otherwise."""
    if _PATTERN.match(camera) or camera.startswith(("rtsp://", "rtsps://", "/dev/video")):
        return camera
    if Path(camera).is_file():
        return camera
    raise ValidationFailed(msg("video.camera_spec", camera=camera))


def open_camera(camera: str) -> tuple[MediaStreamTrack, MediaPlayer | None]:
    """Open the source named by `camera` (blocking for devices and streams: call in a thread)."""
    match = _PATTERN.match(camera)
    if match:
        width, height, fps = (int(g) if g else None for g in match.groups())
        return PatternTrack(width or 640, height or 480, fps or 15), None
    if camera.startswith(("rtsp://", "rtsps://")):
        player = MediaPlayer(camera, options={"rtsp_transport": "tcp"})
    elif camera.startswith("/dev/video"):
        player = MediaPlayer(
            camera, format="v4l2", options={"video_size": "640x480", "framerate": "15"}
        )
    else:
        return LoopingFileTrack(camera), None
    if player.video is None:
        raise ValidationFailed(msg("video.camera_no_stream", camera=camera))
    return player.video, player


class LoopingFileTrack(MediaStreamTrack):
    """A video file played in real time, over and over, with timestamps that keep increasing.

    aiortc's `MediaPlayer(loop=True)` stops at the end of some files (PyAV raises EOFError where
    it expects StopIteration), so the file is simply opened again.
    """

    kind = "video"

    def __init__(self, path: str) -> None:
        """Play `path`; it is opened on the first frame."""
        super().__init__()
        self._path = path
        self._player: MediaPlayer | None = None
        self._offset = 0.0
        self._last = 0.0

    async def recv(self) -> av.VideoFrame:
        """The next frame, paced by the file's own timing."""
        for _ in range(2):
            if self.readyState != "live":
                raise MediaStreamError
            if self._player is None:
                self._player = await asyncio.to_thread(MediaPlayer, self._path)
            track = self._player.video
            if track is None:
                raise MediaStreamError
            try:
                frame = await track.recv()
            except MediaStreamError:
                track.stop()
                self._player = None
                self._offset = self._last + 1 / 15
                continue
            if not isinstance(frame, av.VideoFrame) or frame.pts is None or not frame.time_base:
                continue
            seconds = self._offset + float(frame.pts * frame.time_base)
            self._last = seconds
            frame.pts = int(seconds * _CLOCK)
            frame.time_base = fractions.Fraction(1, _CLOCK)
            return frame
        raise MediaStreamError

    def stop(self) -> None:
        """Stop playing and close the file."""
        if self._player is not None and self._player.video is not None:
            self._player.video.stop()
        self._player = None
        super().stop()
