"""Writing CSV/XLSX bytes that a spreadsheet program opens without running anything in them.

OWASP "CSV Injection": a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return
is read as a formula by Excel, LibreOffice and WPS, so such text cells get a leading `'`
(and every CSV cell is quoted, so no cell can start a new one). XLSX cells are written with
the string type, which no spreadsheet evaluates, whatever the text begins with.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from domain.tabular import cell_text

#: The characters that make a spreadsheet treat a cell as a formula (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: Any) -> str:
    """The cell's text, with a leading `'` when it would otherwise start a formula."""
    text = cell_text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return text  # a number is a number (e.g. -3), never a formula
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """A CSV file (UTF-8 with BOM so spreadsheet programs pick the encoding), formula-safe."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow([safe_text(h) for h in header])
    writer.writerows([safe_text(v) for v in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(
    header: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str = "Sheet1"
) -> bytes:
    """An XLSX workbook with one sheet; every cell is a string cell, never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])

    def cells(values: Sequence[Any]) -> list[Any]:
        out = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=cell_text(value))
            cell.data_type = "s"  # openpyxl would type text starting with "=" as a formula
            out.append(cell)
        return out

    sheet.append(cells(header))
    for row in rows:
        sheet.append(cells(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
