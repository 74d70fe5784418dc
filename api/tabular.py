"""Reading uploaded CSV (UTF-8 or GB18030) and XLSX tables into numbered rows of text cells."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from domain.errors import ValidationFailed

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
XLSX_MAGIC = b"PK\x03\x04"

#: (row number as a spreadsheet shows it, {header: cell text})
Row = tuple[int, dict[str, str]]


def _cell(value: Any) -> str:
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


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed("the CSV file is neither UTF-8 nor GB18030 text")


def _rows(header: list[str], body: list[tuple[int, list[str]]]) -> list[Row]:
    names = [h.strip() for h in header]
    if not any(names):
        raise ValidationFailed("the first row must hold the column names")
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    if dupes:
        raise ValidationFailed(f"column names repeat: {', '.join(dupes)}")
    out: list[Row] = []
    for number, cells in body:
        if not any(c.strip() for c in cells):
            continue  # blank lines are not rows
        if len(out) >= MAX_ROWS:
            raise ValidationFailed(f"more than {MAX_ROWS} rows; split the file")
        out.append(
            (
                number,
                {n: (cells[i].strip() if i < len(cells) else "") for i, n in enumerate(names) if n},
            )
        )
    return out


def _csv(data: bytes) -> list[Row]:
    text = _decode(data)
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise ValidationFailed(f"the CSV file cannot be read: {exc}") from exc
    if not lines:
        raise ValidationFailed("the file is empty")
    return _rows(lines[0], [(i, row) for i, row in enumerate(lines[1:], start=2)])


def _xlsx(data: bytes) -> list[Row]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of error on a malformed file
        raise ValidationFailed("the XLSX file cannot be read") from exc
    try:
        sheet = book.worksheets[0]
        it = sheet.iter_rows(values_only=True)
        first = next(it, None)
        if first is None:
            raise ValidationFailed("the first sheet is empty")
        body = []
        for i, values in enumerate(it, start=2):
            if i > MAX_ROWS + 10_000:
                raise ValidationFailed(f"more than {MAX_ROWS} rows; split the file")
            body.append((i, [_cell(v) for v in values]))
        return _rows([_cell(v) for v in first], body)
    except ValidationFailed:
        raise
    except Exception as exc:  # a damaged sheet fails while rows are read
        raise ValidationFailed("the XLSX file cannot be read") from exc
    finally:
        book.close()


def read_table(data: bytes, filename: str = "") -> list[Row]:
    """Parse an upload; XLSX is recognised by its content, anything else is read as CSV."""
    if not data:
        raise ValidationFailed("the file is empty")
    if len(data) > MAX_BYTES:
        raise ValidationFailed(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    if data.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx"):
        return _xlsx(data)
    return _csv(data)
