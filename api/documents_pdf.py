"""The PDF of an enforcement document, drawn with fpdf2 and a CJK font from the Debian package
fonts-wqy-microhei (scripts/system-packages.sh installs it; no font from a CDN). CPU work: the
route runs it in a worker thread."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from domain.documents import Document

#: The font file of fonts-wqy-microhei (a TrueType collection; the first face is used).
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def render_pdf(doc: Document, *, font: Path = CJK_FONT) -> bytes:
    """The document as PDF bytes (A4 portrait, the font embedded as a subset)."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(f"{doc.title} {doc.doc_no}")
    pdf.set_author(doc.bureau)
    pdf.add_font("cjk", fname=str(font))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, doc.bureau, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=18)
    pdf.cell(0, 12, doc.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    pdf.cell(0, 7, doc.doc_no, align="R", new_x="LMARGIN", new_y="NEXT")
    for label, value in doc.fields:
        pdf.multi_cell(0, 6, f"{label}：{value}", new_x="LMARGIN", new_y="NEXT")
    for table in doc.tables:
        pdf.ln(3)
        pdf.set_font("cjk", size=11)
        pdf.cell(0, 7, table.caption, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=8)
        with pdf.table(
            headings_style=FontFace(emphasis=None, fill_color=(230, 230, 230)),
            line_height=5,
        ) as grid:
            head = grid.row()
            for h in table.headers:
                head.cell(h)
            for values in table.rows:
                row = grid.row()
                for v in values:
                    row.cell(v)
        pdf.set_font("cjk", size=10)
    pdf.ln(3)
    for paragraph in doc.paragraphs:
        pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    for signature in doc.signatures:
        pdf.cell(0, 8, signature, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
