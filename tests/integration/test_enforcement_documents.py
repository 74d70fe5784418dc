"""Enforcement documents from the records, as printable HTML and as PDF with an embedded CJK
font; the PDF text (extracted with pypdf) holds each finding's basis, cause and measure."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from api.app import create_app
from config.settings import Settings
from tests.integration.test_rectification_loop import FIRST, SECOND, _setup


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def _flat(text: str) -> str:
    return "".join(text.split())


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return _flat("".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def test_documents_as_html_and_pdf_hold_every_findings_basis_cause_and_measure(
    client: TestClient, db_url: str
) -> None:
    iid, _, team, ent, sup = _setup(client, db_url)
    url = f"/api/v1/inspections/{iid}/findings"
    f1 = client.post(url, json=FIRST, headers=team).json()
    f2_body = SECOND | {"cause": "储罐区入口<script>未设置</script>安全警示标志", "harm": "serious"}
    f2 = client.post(url, json=f2_body, headers=team).json()
    assert f2["recommendation"] == "case"
    docs = f"/api/v1/inspections/{iid}/documents"
    assert client.get(f"{docs}/rectification_order", headers=sup).status_code == 404  # no order yet
    order = client.post(f"/api/v1/inspections/{iid}/rectification", headers=team).json()
    assert client.get(f"{docs}/reinspection_opinion", headers=sup).status_code == 409
    for f in (f1, f2):
        res = client.post(
            f"/api/v1/findings/{f['id']}/reinspection",
            json={"inspection_id": iid, "result": "passed", "note": "现场核实已整改"},
            headers=team,
        )
        assert res.status_code == 200, res.text
    assert client.get(f"{docs}/nonsense", headers=sup).status_code == 404

    html = client.get(f"{docs}/inspection_record", headers=ent)
    assert html.status_code == 200
    assert "现场检查记录" in html.text
    assert "<script>" not in html.text  # every value escaped
    assert "script-src" not in html.headers["content-security-policy"]
    number = None
    for kind, title in (
        ("inspection_record", "现场检查记录"),
        ("rectification_order", "责令限期整改指令书"),
        ("reinspection_opinion", "整改复查意见书"),
    ):
        res = client.get(f"{docs}/{kind}", params={"format": "pdf"}, headers=ent)
        assert res.status_code == 200, res.text
        assert res.headers["content-type"] == "application/pdf"
        text = _pdf_text(res.content)
        assert title in text
        assert "昌吉回族自治州应急管理局" in text
        for f in (f1, f2):
            for part in ("legal_basis", "cause", "measure"):
                assert _flat(f[part]) in text, (kind, part, f[part])
        if kind == "inspection_record":
            number = text
    assert order["doc_no"] in _pdf_text(
        client.get(f"{docs}/rectification_order", params={"format": "pdf"}, headers=sup).content
    )
    # the record keeps its number on every print
    again = _pdf_text(
        client.get(f"{docs}/inspection_record", params={"format": "pdf"}, headers=sup).content
    )
    assert again == number

    decision = f"/api/v1/findings/{f1['id']}/documents/no_penalty_decision"
    res = client.get(decision, params={"format": "pdf"}, headers=ent)
    assert res.status_code == 200, res.text
    text = _pdf_text(res.content)
    assert "不予行政处罚决定书" in text
    assert "第三十三条第一款第一句" in text
    for part in ("legal_basis", "cause", "measure"):
        assert _flat(f1[part]) in text
    refused = client.get(f"/api/v1/findings/{f2['id']}/documents/no_penalty_decision", headers=sup)
    assert refused.status_code == 409, (f2, refused.text[:300])  # not let off: no decision
