"""Hostile XLSX files built from raw parts: a lying <dimension>, a zip bomb, a very wide sheet."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterable

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
BOOK_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
RELS_CT = "application/vnd.openxmlformats-package.relationships+xml"
SST_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"

_TYPES = (
    f'<?xml version="1.0"?><Types xmlns="{CT}">'
    f'<Default Extension="rels" ContentType="{RELS_CT}"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{BOOK_CT}"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SHEET_CT}"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST_CT}"/>'
    "</Types>"
)
_ROOT_RELS = (
    f'<?xml version="1.0"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
    f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_BOOK = (
    f'<?xml version="1.0"?><workbook xmlns="{NS}" xmlns:r="{REL}"><sheets>'
    '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_BOOK_RELS = (
    f'<?xml version="1.0"?><Relationships xmlns="{PKG}">'
    f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
EMPTY_SST = f'<?xml version="1.0"?><sst xmlns="{NS}" count="0" uniqueCount="0"></sst>'


def workbook(sheet: Iterable[bytes], sst: Iterable[bytes] = (EMPTY_SST.encode(),)) -> bytes:
    """An XLSX file whose sheet1.xml and sharedStrings.xml are streamed from the given chunks."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _TYPES)
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", _BOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _BOOK_RELS)
        for name, chunks in (("xl/worksheets/sheet1.xml", sheet), ("xl/sharedStrings.xml", sst)):
            with z.open(name, "w") as part:
                for chunk in chunks:
                    part.write(chunk)
    return buf.getvalue()


def dimension_bomb(ref: str = "A1:XFD20000") -> bytes:
    """~1.5 KB: one real cell, but the sheet claims to span 16,384 columns × 20,000 rows."""
    sheet = (
        f'<?xml version="1.0"?><worksheet xmlns="{NS}"><dimension ref="{ref}"/><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>名称</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    return workbook([sheet.encode()])


def string_bomb(size: int = 1 << 30) -> bytes:
    """About 1 MB of zip holding one shared string of `size` bytes (1 GiB by default)."""
    head = f'<?xml version="1.0"?><sst xmlns="{NS}" count="1" uniqueCount="1"><si><t>'.encode()
    chunk = b"A" * (1 << 24)

    def sst() -> Iterable[bytes]:
        yield head
        left = size
        while left > 0:
            yield chunk[: min(left, len(chunk))]
            left -= len(chunk)
        yield b"</t></si></sst>"

    sheet = (
        f'<?xml version="1.0"?><worksheet xmlns="{NS}"><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>'
    )
    return workbook([sheet.encode()], sst())


def wide_sheet(rows: int = 10_000, columns: int = 700) -> bytes:
    """`rows` × `columns` numeric cells (no `r` attributes, as the format allows): ~240 KB."""
    row = b"<row>" + b"<c><v>1</v></c>" * columns + b"</row>"

    def sheet() -> Iterable[bytes]:
        yield f'<?xml version="1.0"?><worksheet xmlns="{NS}"><sheetData>'.encode()
        for _ in range(rows):
            yield row
        yield b"</sheetData></worksheet>"

    return workbook(sheet())


def understate_sizes(data: bytes, part: str, claimed: int) -> bytes:
    """The same zip, but `part` declares `claimed` uncompressed bytes in both of its headers."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(part)
    out = bytearray(data)
    # local file header: signature, …, uncompressed size at offset 22
    local = info.header_offset
    assert out[local : local + 4] == b"PK\x03\x04"
    if struct.unpack_from("<I", out, local + 22)[0] != 0xFFFFFFFF:
        struct.pack_into("<I", out, local + 22, claimed)
    # central directory entry: find it by the part's name
    name = part.encode()
    pos = out.find(b"PK\x01\x02")
    while pos != -1:
        n = struct.unpack_from("<H", out, pos + 28)[0]
        if bytes(out[pos + 46 : pos + 46 + n]) == name:
            if struct.unpack_from("<I", out, pos + 24)[0] != 0xFFFFFFFF:
                struct.pack_into("<I", out, pos + 24, claimed)
            break
        pos = out.find(b"PK\x01\x02", pos + 4)
    return bytes(out)
