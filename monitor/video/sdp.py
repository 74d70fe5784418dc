"""SDP checks at the boundary: a malformed offer or answer is refused with a specific reason."""

from __future__ import annotations

from aiortc import sdp as aiortc_sdp

from domain.errors import ValidationFailed
from domain.i18n import msg

#: Real offers are 2–8 KiB; anything far larger is not an SDP we want to parse.
MAX_SDP_BYTES = 64 * 1024
SDP_TYPES = frozenset({"offer", "answer"})


def _fail(kind: str, reason: str) -> ValidationFailed:
    return ValidationFailed(
        msg("video.sdp_malformed", kind=kind, reason=reason), details={"field": "sdp"}
    )


def validate_sdp(text: object, *, kind: str, need_video: bool = True) -> str:
    """Return `text` if it is a usable WebRTC SDP `kind`; raise ValidationFailed saying why not."""
    if kind not in SDP_TYPES:
        raise ValidationFailed(msg("video.sdp_type", kind=kind))
    if not isinstance(text, str) or not text.strip():
        raise _fail(kind, "empty or not a string")
    if len(text.encode("utf-8", "replace")) > MAX_SDP_BYTES:
        raise _fail(kind, f"larger than {MAX_SDP_BYTES} bytes")
    if "\x00" in text:
        raise _fail(kind, "contains NUL characters")
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line]
    if lines[0] != "v=0":
        raise _fail(kind, "must start with the line v=0")
    for line in lines:
        if len(line) < 2 or line[1] != "=" or not line[0].isalpha():
            raise _fail(kind, f"line {line[:40]!r} is not <letter>=<value>")
    if not any(line.startswith("o=") for line in lines):
        raise _fail(kind, "no origin (o=) line")
    try:
        parsed = aiortc_sdp.SessionDescription.parse(text)
    except (AssertionError, ValueError, IndexError, KeyError, TypeError) as exc:
        raise _fail(kind, f"cannot be parsed ({exc.__class__.__name__})") from None
    if not parsed.media:
        raise _fail(kind, "no media (m=) sections")
    kinds = {media.kind for media in parsed.media}
    if need_video and "video" not in kinds:
        raise _fail(kind, "no video media section")
    for media in parsed.media:
        if media.kind not in ("audio", "video", "application"):
            raise _fail(kind, f"unsupported media kind {media.kind!r}")
        if media.kind == "application":
            continue
        ice = media.ice
        if ice is None or not ice.usernameFragment or not ice.password:
            raise _fail(kind, f"{media.kind} section has no a=ice-ufrag / a=ice-pwd")
        dtls = media.dtls
        if dtls is None or not dtls.fingerprints:
            raise _fail(kind, f"{media.kind} section has no a=fingerprint (DTLS is required)")
        if media.port != 0 and not media.rtp.codecs:
            raise _fail(kind, f"{media.kind} section offers no codecs (a=rtpmap)")
    return text
