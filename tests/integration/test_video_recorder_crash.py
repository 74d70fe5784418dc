"""A recording survives its process being killed: everything but the last second plays."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av

SCRIPT = """
import fractions, os, signal, sys, time
from pathlib import Path
import av
from monitor.video.pattern import PatternRenderer
from monitor.video.recorder import PacketRecorder
enc = av.CodecContext.create("libvpx", "w")
enc.width, enc.height, enc.pix_fmt = 320, 240, "yuv420p"
enc.time_base = fractions.Fraction(1, 15)
renderer = PatternRenderer(320, 240)
recorder = PacketRecorder(Path(sys.argv[1]))
recorder.start()
for i in range(75):
    frame = renderer.render(i, 1_700_000_000_000 + i * 66)
    frame.pts = i
    for packet in enc.encode(frame):
        recorder.feed(bytes(packet), 6000 * i)
time.sleep(0.5)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_killed_recorder_leaves_a_playable_file(tmp_path: Path):
    path = tmp_path / "killed.webm"
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(path)], cwd=root, capture_output=True, timeout=60
    )
    assert done.returncode == -9, done.stderr
    frames = 0
    with av.open(str(path)) as container:
        for packet in container.demux(video=0):
            frames += len(packet.decode())
    assert frames >= 60  # of 75 written in 5 s: at most about a second is lost
