"""Reading CSV (UTF-8 or GB18030) and XLSX tables from disk, and writing CSV/XLSX bytes."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from domain.errors import ValidationFailed
from domain.imports import NumberedRow

XLSX_MAGIC = b"PK\x03\x04"


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


def _numbered(header: Sequence[str], body: list[tuple[int, list[str]]]) -> list[NumberedRow]:
    names = [h.strip() for h in header]
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    if dupes:
        raise ValidationFailed(f"column names repeat: {', '.join(dupes)}")
    return [
        (
            number,
            {n: (cells[i].strip() if i < len(cells) else "") for i, n in enumerate(names) if n},
        )
        for number, cells in body
        if any(c.strip() for c in cells)
    ]


def rows_from_csv(data: bytes) -> list[NumberedRow]:
    """Rows of a CSV file; the header is row 1, so the first record is row 2."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationFailed("the CSV file is neither UTF-8 nor GB18030 text")
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ValidationFailed(f"the CSV file cannot be read: {exc}") from exc
    if not lines:
        raise ValidationFailed("the file is empty")
    return _numbered(lines[0], list(enumerate(lines[1:], start=2)))


def rows_from_xlsx(data: bytes) -> list[NumberedRow]:
    """Rows of the first sheet of an XLSX workbook."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of error on a damaged file
        raise ValidationFailed("the XLSX file cannot be read") from exc
    try:
        values = book.worksheets[0].iter_rows(values_only=True)
        header = next(values, None)
        if header is None:
            raise ValidationFailed("the first sheet is empty")
        body = [(i, [_cell(v) for v in row]) for i, row in enumerate(values, start=2)]
        return _numbered([_cell(v) for v in header], body)
    finally:
        book.close()


def read_rows(path: Path) -> list[NumberedRow]:
    """Rows of a CSV or XLSX file (XLSX recognised by content)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc.strerror}") from exc
    if data.startswith(XLSX_MAGIC):
        return rows_from_xlsx(data)
    return rows_from_csv(data)


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """A CSV file (UTF-8 with BOM so spreadsheet programs pick the encoding)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(
    header: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str = "Sheet1"
) -> bytes:
    """An XLSX workbook with one sheet."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(list(header))
    for row in rows:
        sheet.append([_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
