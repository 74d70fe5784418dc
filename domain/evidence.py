"""Evidence files (photos and documents): the type is sniffed from the bytes, never taken from
the client; size and type are bounded; the SHA-256 fixes what was received."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from domain.errors import TooLarge, ValidationFailed
from domain.i18n import msg

MIB = 1024 * 1024

#: Magic bytes → media type; the only types an evidence file may have.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")
#: What an evidence subject kind looks like (the table's CHECK says the same).
SUBJECT_KIND = re.compile(r"^[a-z_]{1,40}$")
_UNSAFE = re.compile(r"[\\/:*?\"<>|\x00-\x1f\x7f]+")


@dataclass(frozen=True, slots=True)
class EvidenceLimits:
    """How large an evidence file may be (the HTTP upload limit is larger, so this one speaks)."""

    max_bytes: int = 10 * MIB
    max_note_chars: int = 500


DEFAULT_LIMITS = EvidenceLimits()


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """An accepted file: its safe name, sniffed type, size and SHA-256."""

    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    content: bytes


def sniff(data: bytes) -> str | None:
    """The media type the bytes show, or None when they are not an accepted kind."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def safe_filename(name: str, media_type: str) -> str:
    """The file's base name without path parts or control characters, at most 200 characters."""
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip(" .")[:200]
    if not base:
        base = "evidence." + media_type.rsplit("/", 1)[-1].replace("jpeg", "jpg")
    return base


def accept(data: bytes, *, filename: str, limits: EvidenceLimits = DEFAULT_LIMITS) -> EvidenceFile:
    """Check an upload (size, then type by content) and fix its SHA-256; raise in zh-CN."""
    if len(data) > limits.max_bytes:
        raise TooLarge(
            msg("evidence.too_large", limit=limits.max_bytes // MIB),
            details={"limit_bytes": limits.max_bytes},
        )
    if not data:
        raise ValidationFailed(msg("evidence.empty"), details={"file": "empty"})
    media_type = sniff(data)
    if media_type is None:
        raise ValidationFailed(
            msg("evidence.type", types="JPEG、PNG、WebP、PDF"),
            details={"accepted": list(MEDIA_TYPES)},
        )
    return EvidenceFile(
        filename=safe_filename(filename, media_type),
        media_type=media_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
    )
