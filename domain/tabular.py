"""The one reader of CSV (UTF-8 or GB18030) and XLSX tables, bounded before anything expands.

An upload is checked against `TableLimits` at every stage: the file's size, then (XLSX) the
zip entries' declared AND actual uncompressed sizes before openpyxl sees them, then rows,
columns and cell length while the sheet is streamed (openpyxl read-only mode, the sheet's
`<dimension>` claim ignored). A file over a size limit raises `TooLarge` (HTTP 413), a file
with too many rows, columns or too long a cell `ValidationFailed` (HTTP 422). Callers in an
event loop run `read_table` in a worker thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

# Imported eagerly: a first import inside a request costs ~0.7 s of GIL-holding work.
from openpyxl import load_workbook

from domain.errors import TooLarge, ValidationFailed
from domain.i18n import msg

XLSX_MAGIC = b"PK\x03\x04"
MIB = 1024 * 1024
_CHUNK = 256 * 1024

#: (row number as a spreadsheet shows it, {header: cell text})
Row = tuple[int, dict[str, str]]
NumberedRows = list[Row]


@dataclass(frozen=True, slots=True)
class TableLimits:
    """How large a table may be; every limit is checked before the data it bounds is built."""

    max_bytes: int = 10 * MIB  # the file as received
    max_rows: int = 50_000  # data rows (the header row not counted)
    max_blank_rows: int = 10_000  # empty rows in between, which cost time too
    max_columns: int = 100
    max_cell_chars: int = 4_000
    max_uncompressed: int = 64 * MIB  # XLSX: all zip entries expanded, together
    max_zip_entries: int = 500


#: Uploads through the HTTP API (directory, officers, tags): a county's directory fits easily.
UPLOAD_LIMITS = TableLimits()
#: The offline draw (`safewatch draw`) reads whole-province files of 100,000+ enterprises from
#: the notary's own disk, so it allows more rows and bytes; columns and cell length stay bounded.
OFFLINE_LIMITS = TableLimits(
    max_bytes=512 * MIB,
    max_rows=1_000_000,
    max_blank_rows=100_000,
    max_uncompressed=2048 * MIB,
    max_zip_entries=2_000,
)


def cell_text(value: Any) -> str:
    """A spreadsheet value as text (dates ISO, whole floats without `.0`)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _mib(n: int) -> str:
    return f"{n / MIB:.0f} MiB" if n >= MIB else f"{n} bytes"


class _Shaper:
    """Turns raw rows into numbered rows while enforcing the header and the row/cell limits."""

    def __init__(self, limits: TableLimits) -> None:
        self.limits = limits
        self.names: list[str] | None = None
        self.rows: list[Row] = []
        self.blank = 0

    def _check_width(self, number: int, cells: Sequence[str]) -> None:
        width = len(cells)
        while width and not cells[width - 1]:
            width -= 1
        if width > self.limits.max_columns:
            raise ValidationFailed(
                msg(
                    "file.too_many_columns",
                    number=number,
                    width=width,
                    max_columns=self.limits.max_columns,
                ),
                details={"row": number, "columns": width, "limit": self.limits.max_columns},
            )
        for i, text in enumerate(cells[:width]):
            if len(text) > self.limits.max_cell_chars:
                raise ValidationFailed(
                    msg(
                        "file.cell_too_long",
                        number=number,
                        i=i + 1,
                        max_cell_chars=self.limits.max_cell_chars,
                    ),
                    details={"row": number, "column": i + 1, "limit": self.limits.max_cell_chars},
                )

    def header(self, cells: Sequence[str]) -> None:
        self._check_width(1, cells)
        names = [c.strip() for c in cells]
        if not any(names):
            raise ValidationFailed(msg("file.header_required"))
        dupes = sorted({n for n in names if n and names.count(n) > 1})
        if dupes:
            raise ValidationFailed(
                msg("file.duplicate_columns", dupes=list(dupes)),
                details={"duplicates": dupes},
            )
        self.names = names

    def add(self, number: int, cells: Sequence[str]) -> None:
        assert self.names is not None
        self._check_width(number, cells)
        if not any(c.strip() for c in cells):
            self.blank += 1  # blank lines are not rows, but they are bounded too
            if self.blank > self.limits.max_blank_rows:
                raise ValidationFailed(
                    msg("file.too_many_blank_rows", max_blank_rows=self.limits.max_blank_rows)
                )
            return
        if len(self.rows) >= self.limits.max_rows:
            raise ValidationFailed(
                msg("file.too_many_rows", max_rows=self.limits.max_rows),
                details={"limit": self.limits.max_rows},
            )
        self.rows.append(
            (
                number,
                {
                    n: (cells[i].strip() if i < len(cells) else "")
                    for i, n in enumerate(self.names)
                    if n
                },
            )
        )

    def feed(self, numbered: Iterable[tuple[int, Sequence[str]]]) -> list[Row]:
        for number, cells in numbered:
            if self.names is None:
                self.header(cells)
            else:
                self.add(number, cells)
        if self.names is None:
            raise ValidationFailed(msg("file.empty"))
        return self.rows


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(msg("file.csv_encoding"))


def _csv_lines(text: str) -> Iterator[tuple[int, list[str]]]:
    # The csv module's own field limit is process-wide; a per-read bound is enforced by _Shaper,
    # and this reader never holds more than one record at a time.
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise ValidationFailed(
            msg("file.csv_unreadable", exc=exc),
            details={"line": reader.line_num},
        ) from exc


def read_csv(data: bytes, limits: TableLimits = UPLOAD_LIMITS) -> list[Row]:
    """Rows of a CSV file; the header is row 1, so the first record is row 2."""
    _check_size(data, limits)
    return _Shaper(limits).feed(_csv_lines(_decode(data)))


def _check_size(data: bytes, limits: TableLimits) -> None:
    if not data:
        raise ValidationFailed(msg("file.empty"))
    if len(data) > limits.max_bytes:
        raise TooLarge(
            msg("file.too_large", max_bytes=_mib(limits.max_bytes)),
            details={"limit_bytes": limits.max_bytes},
        )


def check_zip(data: bytes, limits: TableLimits) -> None:
    """Refuse a zip whose entries would expand past the limits, by what they declare and then by
    what they actually inflate to (read in chunks, stopping at the limit)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ValidationFailed(msg("file.xlsx_unreadable")) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_zip_entries:
            raise TooLarge(
                msg("file.xlsx_parts", count=len(infos), max_zip_entries=limits.max_zip_entries)
            )
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_uncompressed:
            raise _expands_too_far(declared, limits)
        actual = 0
        for info in infos:
            inflated = 0
            try:
                with archive.open(info) as member:
                    while chunk := member.read(_CHUNK):
                        inflated += len(chunk)
                        actual += len(chunk)
                        if inflated > info.file_size or actual > limits.max_uncompressed:
                            raise _expands_too_far(actual, limits)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
                # zipfile stops at the declared size; a lie shows up as a bad CRC here
                raise ValidationFailed(
                    msg("file.xlsx_damaged", filename=info.filename[:80])
                ) from exc
            except NotImplementedError as exc:  # an unsupported compression method
                raise ValidationFailed(msg("file.xlsx_unreadable")) from exc


def _expands_too_far(size: int, limits: TableLimits) -> TooLarge:
    return TooLarge(
        msg("file.xlsx_expands", max_uncompressed=_mib(limits.max_uncompressed)),
        details={"limit_uncompressed_bytes": limits.max_uncompressed, "at_least": size},
    )


def _xlsx_lines(sheet: Any, limits: TableLimits) -> Iterator[tuple[int, list[str]]]:
    last_allowed = 1 + limits.max_rows + limits.max_blank_rows
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > last_allowed:
            raise ValidationFailed(
                msg("file.too_many_rows", max_rows=limits.max_rows),
                details={"limit": limits.max_rows},
            )
        yield number, [cell_text(v) for v in values]


def read_xlsx(data: bytes, limits: TableLimits = UPLOAD_LIMITS) -> list[Row]:
    """Rows of the first sheet of an XLSX workbook (read-only streaming, bounded)."""
    _check_size(data, limits)
    check_zip(data, limits)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of error on a malformed file
        raise ValidationFailed(msg("file.xlsx_unreadable")) from exc
    try:
        if not book.worksheets:
            raise ValidationFailed(msg("file.xlsx_no_sheet"))
        sheet = book.worksheets[0]
        # The <dimension> element is a claim, not a fact: trusting it pads every row to it.
        sheet.reset_dimensions()
        return _Shaper(limits).feed(_xlsx_lines(sheet, limits))
    except (ValidationFailed, TooLarge):
        raise
    except Exception as exc:  # a damaged sheet fails while rows are read
        raise ValidationFailed(msg("file.xlsx_unreadable")) from exc
    finally:
        book.close()


def read_table(data: bytes, filename: str = "", limits: TableLimits = UPLOAD_LIMITS) -> list[Row]:
    """Parse a table; XLSX is recognised by its content or name, anything else is read as CSV."""
    if data.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx"):
        return read_xlsx(data, limits)
    return read_csv(data, limits)
