"""Unit tests of the video pieces that need no network: pattern, SDP, topics, ICE, recorder."""

from __future__ import annotations

import fractions
import io
from pathlib import Path

import av
import pytest

from domain.credit_code import make_credit_code
from domain.errors import ConfigurationError, RuleViolation, ValidationFailed
from domain.video import SessionState, check_transition, parse_purpose
from monitor.video.ice import parse_ice_server, rtc_configuration
from monitor.video.pattern import (
    PatternRenderer,
    decode_bits,
    encode_bits,
    read_capture_ms,
)
from monitor.video.recorder import PacketRecorder, encode_jpeg, vp8_keyframe_size
from monitor.video.sdp import validate_sdp
from monitor.video.signalling import (
    HangupMsg,
    SdpMsg,
    parse_payload,
    parse_topic,
    video_topic,
)

ENT = make_credit_code("330100", 12345)

GOOD_OFFER = (
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\n"
    "a=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=ice-ufrag:abcd\r\n"
    "a=ice-pwd:0123456789abcdef01234567\r\n"
    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\na=setup:actpass\r\n"
)


def vp8_frames(count: int) -> list[bytes]:
    """Encode `count` pattern frames with libvpx."""
    enc = av.CodecContext.create("libvpx", "w")
    enc.width, enc.height, enc.pix_fmt = 320, 240, "yuv420p"
    enc.time_base = fractions.Fraction(1, 15)
    renderer = PatternRenderer(320, 240)
    out: list[bytes] = []
    for i in range(count):
        frame = renderer.render(i, 1_700_000_000_000 + i * 66)
        frame.pts = i
        out += [bytes(p) for p in enc.encode(frame)]
    out += [bytes(p) for p in enc.encode(None)]
    return out


def test_capture_time_round_trips_through_bits_and_pixels():
    assert decode_bits(encode_bits(1_700_000_000_123)) == 1_700_000_000_123
    bits = encode_bits(42)
    bits[5] ^= 1
    assert decode_bits(bits) is None
    frame = PatternRenderer().render(7, 1_700_000_000_456)
    assert read_capture_ms(frame) == 1_700_000_000_456


def test_capture_time_survives_vp8_compression():
    dec = av.CodecContext.create("vp8", "r")
    read = [read_capture_ms(f) for data in vp8_frames(10) for f in dec.decode(av.Packet(data))]
    assert read == [1_700_000_000_000 + i * 66 for i in range(10)]


def test_valid_offer_passes_and_malformed_ones_say_why():
    assert validate_sdp(GOOD_OFFER, kind="offer") == GOOD_OFFER
    cases = {
        "": "empty",
        "hello": "v=0",
        "v=0\r\nnot a line\r\n": "not <letter>=<value>",
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n": "no media",
        GOOD_OFFER.replace("a=ice-ufrag:abcd\r\n", ""): "ice-ufrag",
        GOOD_OFFER.replace("a=fingerprint", "a=x-fingerprint"): "fingerprint",
        GOOD_OFFER.replace("m=video", "m=audio"): "no video",
        "v=0\r\no=x\r\n" + "a=x:" + "y" * 70_000: "larger than",
    }
    for sdp, needle in cases.items():
        with pytest.raises(ValidationFailed) as info:
            validate_sdp(sdp, kind="offer")
        assert "视频连接描述格式错误（offer）" in info.value.message
        assert needle in info.value.message


def test_topics_parse_and_refuse_bad_enterprise_ids():
    topic = video_topic("safewatch/v1", ENT, "offer")
    parsed = parse_topic("safewatch/v1", topic)
    assert (parsed.enterprise, parsed.kind) == (ENT, "offer")
    bad = ENT[:-1] + ("0" if ENT[-1] != "0" else "1")
    with pytest.raises(ValidationFailed, match="check"):
        parse_topic("safewatch/v1", video_topic("safewatch/v1", bad, "offer"))
    with pytest.raises(ValidationFailed, match="不是视频信令主题"):
        parse_topic("safewatch/v1", f"safewatch/v1/ent/{ENT}/event")


def test_payloads_validate_at_the_edge():
    msg = parse_payload(SdpMsg, b'{"session_id": "abc", "type": "offer", "sdp": "v=0"}')
    assert msg.type == "offer"
    assert parse_payload(HangupMsg, b'{"session_id": "abc"}').reason is None
    with pytest.raises(ValidationFailed, match="不是 JSON"):
        parse_payload(SdpMsg, b"{")
    with pytest.raises(ValidationFailed, match="session_id"):
        parse_payload(SdpMsg, b'{"session_id": "a b", "type": "offer", "sdp": ""}')


def test_ice_servers_parse_and_default_to_none():
    assert rtc_configuration([]).iceServers == []
    turn = parse_ice_server("turn:alice:s%40cret@turn.example.org:3478?transport=tcp")
    assert (turn.url, turn.username, turn.credential) == (
        "turn:turn.example.org:3478?transport=tcp",
        "alice",
        "s@cret",
    )
    assert turn.as_browser()["urls"] == ["turn:turn.example.org:3478?transport=tcp"]
    assert parse_ice_server("stun:stun.example.org:3478").username is None
    for bad in ("http://x", "turn:host:3478", "stun:", "turn:@host"):
        with pytest.raises(ConfigurationError):
            parse_ice_server(bad)


def test_session_states_and_purposes():
    check_transition(SessionState.REQUESTED, SessionState.CONNECTING)
    check_transition(SessionState.LIVE, SessionState.FAILED)
    with pytest.raises(RuleViolation):
        check_transition(SessionState.ENDED, SessionState.LIVE)
    with pytest.raises(ValidationFailed, match="restart_verification"):
        parse_purpose("look")


def test_packet_recorder_writes_playable_webm_without_reencoding(tmp_path: Path):
    frames = vp8_frames(45)
    assert vp8_keyframe_size(frames[0]) == (320, 240)
    assert vp8_keyframe_size(frames[1]) is None
    recorder = PacketRecorder(tmp_path / "a" / "rec.webm", label="t")
    recorder.start()
    recorder.feed(frames[1], 0)  # before the first keyframe: skipped
    for i, data in enumerate(frames):
        recorder.feed(data, 6000 * (i + 1))
    result = recorder.stop()
    assert result.frames == 45
    assert result.duration_s == pytest.approx(3.0, abs=0.01)
    assert result.size_bytes == result.path.stat().st_size > 0
    assert result.sha256 is not None
    assert len(result.sha256) == 64
    with av.open(str(result.path)) as container:
        assert container.duration / 1e6 == pytest.approx(3.0, abs=0.1)
        decoded = list(container.decode(video=0))
    assert len(decoded) == 45
    assert read_capture_ms(decoded[-1]) == 1_700_000_000_000 + 44 * 66


def test_empty_recording_reports_no_frames(tmp_path: Path):
    recorder = PacketRecorder(tmp_path / "none.webm")
    recorder.start()
    result = recorder.stop()
    assert (result.frames, result.size_bytes, result.sha256) == (0, 0, None)


def test_snapshot_is_a_jpeg():
    data = encode_jpeg(PatternRenderer().render(0, 1_700_000_000_000))
    assert data[:3] == b"\xff\xd8\xff"
    assert data[-2:] == b"\xff\xd9"
    with av.open(io.BytesIO(data)) as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (640, 480)


def test_marker_jitter_buffer_releases_a_frame_on_its_last_packet():
    from aiortc.rtp import RtpPacket

    from monitor.video.jitter import MarkerJitterBuffer

    def packet(seq: int, ts: int, data: bytes, marker: bool, start: bool) -> RtpPacket:
        p = RtpPacket(
            sequence_number=seq,
            timestamp=ts,
            marker=marker,
            payload=bytes([0x10 if start else 0x00]) + data,
        )
        p._data = data  # type: ignore[attr-defined]
        return p

    buf = MarkerJitterBuffer()
    assert buf.add(packet(10, 900, b"a", False, True)) == (False, None)
    _, frame = buf.add(packet(11, 900, b"b", True, False))
    assert frame is not None
    assert (frame.data, frame.timestamp, frame.broken) == (b"ab", 900, False)
    # a lost marker: the frame is released when the next frame starts, as aiortc would
    assert buf.add(packet(12, 1800, b"c", False, True)) == (False, None)
    _, frame = buf.add(packet(13, 2700, b"d", False, True))
    assert frame is not None
    assert (frame.data, frame.timestamp, frame.broken) == (b"c", 1800, False)
    # a gap holds the frame back until the missing packet arrives
    assert buf.add(packet(15, 2700, b"f", True, False))[1] is None
    _, frame = buf.add(packet(14, 2700, b"e", False, False))
    assert frame is not None
    assert (frame.data, frame.broken) == (b"def", False)
    # packets given up on: the next frame is flagged broken
    buf.remove(2)  # 16 and 17 never came
    _, frame = buf.add(packet(18, 3600, b"g", True, True))
    assert frame is not None
    assert (frame.data, frame.broken) == (b"g", True)
    # a frame whose first packet is not a start is broken too
    buf.add(packet(19, 4500, b"h", False, False))
    _, frame = buf.add(packet(20, 4500, b"i", True, False))
    assert frame is not None
    assert frame.broken


def test_recorder_skips_to_the_next_keyframe_after_a_broken_frame(tmp_path: Path):
    frames = vp8_frames(30)
    recorder = PacketRecorder(tmp_path / "gap.webm")
    recorder.start()
    for i, data in enumerate(frames[:10]):
        recorder.feed(data, 6000 * i)
    recorder.feed(frames[10], 6000 * 10, broken=True)
    for i, data in enumerate(frames[11:20], start=11):
        recorder.feed(data, 6000 * i)  # inter frames after the loss: not written
    recorder.feed(frames[0], 6000 * 20)  # a keyframe: writing resumes
    result = recorder.stop()
    assert result.frames == 11
    with av.open(str(result.path)) as container:
        assert len(list(container.decode(video=0))) == 11
