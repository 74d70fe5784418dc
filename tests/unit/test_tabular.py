"""The one tabular reader refuses hostile tables before expanding them; exports are formula-safe."""

from __future__ import annotations

import csv
import io
import time
import zipfile

import pytest
from openpyxl import load_workbook

from domain.errors import TooLarge, ValidationFailed
from domain.tabular import (
    OFFLINE_LIMITS,
    UPLOAD_LIMITS,
    TableLimits,
    read_csv,
    read_table,
    read_xlsx,
)
from domain.tabular_export import csv_bytes, safe_text, xlsx_bytes
from tests.xlsx_bombs import dimension_bomb, string_bomb, understate_sizes, wide_sheet

SMALL = TableLimits(max_rows=5, max_blank_rows=3, max_columns=4, max_cell_chars=10)


def test_a_lying_dimension_is_ignored() -> None:
    started = time.process_time()
    # the one real cell is a header; the claim of 16,384 × 20,000 cells is not padded out
    assert read_xlsx(dimension_bomb()) == []
    assert time.process_time() - started < 2.0


def test_declared_expansion_beyond_the_limit_is_413_before_inflating() -> None:
    limits = TableLimits(max_uncompressed=1024 * 1024)
    bomb = string_bomb(8 * 1024 * 1024)
    started = time.process_time()
    with pytest.raises(TooLarge) as err:
        read_xlsx(bomb, limits)
    assert time.process_time() - started < 0.5
    assert err.value.details["limit_uncompressed_bytes"] == 1024 * 1024


def test_understated_sizes_are_caught_while_inflating() -> None:
    bomb = understate_sizes(string_bomb(4 * 1024 * 1024), "xl/sharedStrings.xml", 100)
    with pytest.raises(ValidationFailed, match=r"损坏|damaged"):
        read_xlsx(bomb, TableLimits(max_uncompressed=1024 * 1024))


def test_a_wide_sheet_is_refused_by_size_and_by_columns() -> None:
    with pytest.raises(TooLarge):
        read_xlsx(wide_sheet(10_000, 700))
    with pytest.raises(ValidationFailed, match="700") as err:
        read_xlsx(wide_sheet(20, 700))
    assert err.value.details == {"row": 1, "columns": 700, "limit": UPLOAD_LIMITS.max_columns}


def test_row_cap_is_a_parameter() -> None:
    text = "a,b\n" + "".join(f"{i},x\n" for i in range(6))
    assert len(read_csv(text.encode(), OFFLINE_LIMITS)) == 6
    with pytest.raises(ValidationFailed, match="5"):
        read_csv(text.encode(), SMALL)
    header, rows = ["a", "b"], [[str(i), "x"] for i in range(6)]
    with pytest.raises(ValidationFailed, match="5"):
        read_xlsx(xlsx_bytes(header, rows), SMALL)
    assert len(read_xlsx(xlsx_bytes(header, rows), OFFLINE_LIMITS)) == 6


def test_blank_rows_are_bounded_too() -> None:
    with pytest.raises(ValidationFailed, match="空行"):
        read_csv(("a,b\n" + "\n" * 2 + ",\n" * 5 + "1,2\n").encode(), SMALL)


def test_cell_length_and_width_limits() -> None:
    with pytest.raises(ValidationFailed, match="10"):
        read_csv(b"a,b\n1,xxxxxxxxxxxxxxxx\n", SMALL)
    with pytest.raises(ValidationFailed) as err:
        read_csv(b"a,b\n1,2,3,4,5,6\n", SMALL)
    assert err.value.details["row"] == 2
    # trailing empty cells do not count as width
    assert read_csv(b"a,b\n1,2,,,,,,,\n", SMALL) == [(2, {"a": "1", "b": "2"})]


def test_header_checks() -> None:
    with pytest.raises(ValidationFailed, match="列名重复"):
        read_csv(b"a,a\n1,2\n")
    with pytest.raises(ValidationFailed, match="第一行"):
        read_csv(b",,\n1,2\n")
    with pytest.raises(ValidationFailed, match="空"):
        read_table(b"")
    with pytest.raises(TooLarge):
        read_csv(b"a\n" + b"1\n" * 40, TableLimits(max_bytes=20))


def test_csv_and_xlsx_read_alike() -> None:
    header, rows = ["名称", "县区"], [["甲", "652301"], ["乙", "652302"]]
    from_csv = read_table(csv_bytes(header, rows), "t.csv")
    from_xlsx = read_table(xlsx_bytes(header, rows), "t.xlsx")
    expected = [(2, {"名称": "甲", "县区": "652301"}), (3, {"名称": "乙", "县区": "652302"})]
    assert from_csv == from_xlsx == expected
    gb = "名称,县区\n丙,652323\n".encode("gb18030")
    assert read_table(gb) == [(2, {"名称": "丙", "县区": "652323"})]


HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)", " =1", "\t=1"]
ESCAPED = [
    '\'=HYPERLINK("http://evil.example","click")',
    "'+1+1",
    "'-2+3",
    "'@SUM(A1)",
    "'=1",
    "'=1",
]


def test_csv_export_escapes_formula_leading_cells() -> None:
    data = csv_bytes(["name", "n"], [[h, -3] for h in HOSTILE])
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [r[0] for r in rows[1:]] == ESCAPED
    assert all(r[1] == "-3" for r in rows[1:])  # numbers stay numbers
    assert safe_text("安全") == "安全"
    assert text.splitlines()[0] == '"name","n"'  # every cell quoted


def test_xlsx_export_writes_text_cells_never_formulas() -> None:
    data = xlsx_bytes(["name"], [[h] for h in HOSTILE])
    book = load_workbook(io.BytesIO(data))
    cells = [row[0] for row in book.worksheets[0].iter_rows(min_row=2)]
    assert [c.data_type for c in cells] == ["s"] * len(HOSTILE)
    assert cells[0].value == HOSTILE[0]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert b"<f>" not in z.read("xl/worksheets/sheet1.xml")
