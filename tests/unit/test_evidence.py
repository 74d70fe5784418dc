"""Evidence files: type by content, size bounded, SHA-256 fixed, names made safe."""

from __future__ import annotations

import hashlib

import pytest

from domain.errors import TooLarge, ValidationFailed
from domain.evidence import EvidenceLimits, accept, safe_filename, sniff

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
PDF = b"%PDF-1.7\n" + b"0" * 32
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 16


@pytest.mark.parametrize(
    ("data", "media_type"),
    [(PNG, "image/png"), (JPEG, "image/jpeg"), (PDF, "application/pdf"), (WEBP, "image/webp")],
)
def test_accepted_types_are_sniffed(data: bytes, media_type: str) -> None:
    got = accept(data, filename="x.bin")
    assert got.media_type == media_type
    assert got.sha256 == hashlib.sha256(data).hexdigest()
    assert got.size_bytes == len(data)


def test_a_disguised_file_is_refused_by_content() -> None:
    assert sniff(b"<html><script>") is None
    with pytest.raises(ValidationFailed, match="只接受以下类型的证据文件"):
        accept(b"MZ\x90\x00 executable", filename="photo.jpg")
    with pytest.raises(ValidationFailed, match="文件为空"):
        accept(b"", filename="a.png")


def test_size_limit_in_zh() -> None:
    with pytest.raises(TooLarge, match="文件超过1兆字节的上限"):
        accept(PNG + b"\x00" * (1024 * 1024), filename="a.png", limits=EvidenceLimits(1024 * 1024))


def test_names_lose_paths_and_control_characters() -> None:
    assert safe_filename("../../etc/passwd", "image/png") == "passwd"
    assert safe_filename("C:\\照片\\现场 1.jpg", "image/jpeg") == "现场 1.jpg"
    assert safe_filename("a\x00b<>.png", "image/png") == "a_b_.png"
    assert safe_filename("..", "image/jpeg") == "evidence.jpg"
