"""The flexible instruments' documents (measure 4) from their records, through the API: each
instrument's own document (责令限期改正通知书, 批评教育告知书, 约谈通知书 and 约谈记录, 行政告诫书)
as HTML and PDF (text extracted with pypdf holds the finding's basis, cause and measure), under
the bureau's name with a number of its own sequence; numbers sequential and unique when many
are issued at once; readers by ownership (supervisor, the team, the enterprise addressed)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from config.settings import Settings
from domain.clock import utcnow
from tests.integration.apiclient import PASSWORD, add_user, login
from tests.integration.test_enforcement_documents import _flat, _pdf_text
from tests.integration.test_rectification_loop import FIRST, SECOND, _setup
from tests.integration.workbench_support import inspector_as

BUREAU = "昌吉回族自治州应急管理局"
MEETING = {
    "meeting_place": "州应急管理局三楼会议室",
    "meeting_attendee": "企业主要负责人 王某某（总经理）",
}
CONTENTS = {
    "rectify_order": "责令限期补训，考核合格后方可上岗，建立三级安全教育档案",
    "education": "对企业安全管理人员进行批评教育，讲解三级安全教育的法定要求",
    "interview": "约谈企业主要负责人，督促落实全员安全生产培训制度",
    "warning": "予以行政告诫，要求立即补训并举一反三排查其他岗位",
}
DOCS = {
    "rectify_order": [("rectify_notice", "责令限期改正通知书", "昌州应急改正〔")],
    "education": [("education_notice", "批评教育告知书", "昌州应急教育〔")],
    "interview": [
        ("interview_notice", "约谈通知书", "昌州应急约谈〔"),
        ("interview_record", "约谈记录", "昌州应急约记〔"),
    ],
    "warning": [("warning_notice", "行政告诫书", "昌州应急告诫〔")],
}
NUMBER = re.compile(r"〔(\d{4})〕(\d+)号")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def _measure(client: TestClient, finding: int, kind: str, team: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": kind, "content": CONTENTS[kind]}
    if kind == "interview":
        body |= MEETING | {"meeting_at": (utcnow() + timedelta(days=3)).isoformat()}
    res = client.post(f"/api/v1/findings/{finding}/measures", json=body, headers=team)
    assert res.status_code == 201, res.text
    return dict(res.json())


def test_each_instrument_has_its_document_with_basis_cause_and_measure(
    client: TestClient, db_url: str
) -> None:
    iid, code, team, ent, sup = _setup(client, db_url)
    url = f"/api/v1/inspections/{iid}/findings"
    finding = client.post(url, json=FIRST, headers=team).json()
    # an interview states when, where and whom; other measures do not take these fields
    bad = client.post(
        f"/api/v1/findings/{finding['id']}/measures",
        json={"kind": "interview", "content": CONTENTS["interview"]},
        headers=team,
    )
    assert bad.status_code == 422
    details = bad.json()["error"]["details"]
    assert set(details) == {"meeting_at", "meeting_place", "meeting_attendee"}
    assert "约谈时间" in details["meeting_at"]
    bad = client.post(
        f"/api/v1/findings/{finding['id']}/measures",
        json={"kind": "warning", "content": CONTENTS["warning"]} | MEETING,
        headers=team,
    )
    assert bad.status_code == 422
    assert "只适用于行政约谈" in bad.json()["error"]["details"]["meeting_place"]

    measures = {k: _measure(client, finding["id"], k, team) for k in CONTENTS}
    interview = measures["interview"]["id"]
    record = f"/api/v1/measures/{interview}/documents/interview_record"
    res = client.get(record, headers=sup)
    assert res.status_code == 409  # not held yet
    assert "约谈尚未记录" in res.json()["error"]["message"]
    minutes = {
        "held_at": utcnow().isoformat(),
        "attendees": "王某某（总经理）、赵某（安全总监）",
        "minutes": "指出三名新员工未经三级安全教育上岗的问题，企业承诺十日内补训并报送档案",
    }
    wrong = client.post(
        f"/api/v1/measures/{measures['warning']['id']}/minutes", json=minutes, headers=team
    )
    assert wrong.status_code == 409  # a warning has no interview record
    early = minutes | {"held_at": (utcnow() + timedelta(days=1)).isoformat(), "minutes": "短"}
    res = client.post(f"/api/v1/measures/{interview}/minutes", json=early, headers=team)
    assert res.status_code == 422
    assert set(res.json()["error"]["details"]) == {"held_at", "minutes"}
    res = client.post(f"/api/v1/measures/{interview}/minutes", json=minutes, headers=team)
    assert res.status_code == 200, res.text
    assert res.json()["attendees"] == minutes["attendees"]
    again = client.post(f"/api/v1/measures/{interview}/minutes", json=minutes, headers=team)
    assert again.status_code == 409  # kept as recorded

    for kind, docs in DOCS.items():
        measure = measures[kind]
        for document, title, prefix in docs:
            path = f"/api/v1/measures/{measure['id']}/documents/{document}"
            html = client.get(path, headers=ent)
            assert html.status_code == 200, html.text
            assert title in html.text
            assert "script-src" not in html.headers["content-security-policy"]
            res = client.get(path, params={"format": "pdf"}, headers=ent)
            assert res.status_code == 200, res.text
            assert res.headers["content-type"] == "application/pdf"
            text = _pdf_text(res.content)
            assert title in text
            assert BUREAU in text
            assert _flat(prefix) in text
            assert _flat(measure["doc_no"]) in text  # the measure's register number
            assert _flat(CONTENTS[kind]) in text
            for part in ("legal_basis", "cause", "measure"):
                assert _flat(finding[part]) in text, (document, part)
            if document == "interview_notice":
                assert _flat(MEETING["meeting_place"]) in text
                assert _flat(MEETING["meeting_attendee"]) in text
            if document == "interview_record":
                assert _flat(minutes["minutes"]) in text
                assert _flat(minutes["attendees"]) in text
            if document == "warning_notice":
                assert "不属于" in text  # a 告诫 is not the penalty 警告
            # the document keeps its number on every print
            assert _pdf_text(client.get(path, params={"format": "pdf"}, headers=sup).content) == (
                text
            )
        # a document another instrument has is not this one's
        other = "warning_notice" if kind != "warning" else "rectify_notice"
        res = client.get(f"/api/v1/measures/{measure['id']}/documents/{other}", headers=sup)
        assert res.status_code == 404

    # readers: the supervisor and the team yes; duty, an inspector outside the team, another
    # enterprise no
    path = f"/api/v1/measures/{measures['warning']['id']}/documents/warning_notice"
    assert client.get(path, headers=team).status_code == 200
    assert client.get(path, headers=login(client, "t_duty", PASSWORD)).status_code == 403
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT officer_id FROM officers WHERE officer_id NOT IN"
            " (SELECT officer_id FROM inspection_staff WHERE inspection_id = %s) LIMIT 1",
            (iid,),
        ).fetchone()
        assert row is not None
        outsider = inspector_as(client, db_url, str(row[0]))
        row = conn.execute(
            "SELECT credit_code FROM enterprises WHERE credit_code <> %s LIMIT 1", (code,)
        ).fetchone()
        assert row is not None
        other = str(row[0])
    assert client.get(path, headers=outsider).status_code == 403
    add_user(db_url, "ent_other", "enterprise", other)
    res = client.get(path, headers=login(client, "ent_other", PASSWORD))
    assert res.status_code == 403
    assert "王某某" not in res.text


def test_numbers_are_sequential_and_unique_when_issued_at_once(
    client: TestClient, db_url: str
) -> None:
    iid, _, team, ent, sup = _setup(client, db_url)
    url = f"/api/v1/inspections/{iid}/findings"
    findings = [client.post(url, json=body, headers=team).json() for body in (FIRST, SECOND)]
    warnings = [_measure(client, findings[n % 2]["id"], "warning", team)["id"] for n in range(8)]
    # every warning's document is asked for three times at once (first issues race each other)
    paths = [f"/api/v1/measures/{m}/documents/warning_notice" for m in warnings for _ in "abc"]

    def fetch(path: str) -> tuple[str, str]:
        res = client.get(path, headers=sup)
        assert res.status_code == 200, res.text
        found = NUMBER.findall(res.text)
        assert found, res.text[:300]
        return path, f"{found[0][0]}-{found[0][1]}"

    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(fetch, paths))
    by_doc: dict[str, set[str]] = {}
    for path, number in got:
        by_doc.setdefault(path, set()).add(number)
    assert all(len(v) == 1 for v in by_doc.values()), by_doc  # one number per document
    numbers = sorted(int(next(iter(v)).split("-")[1]) for v in by_doc.values())
    assert numbers == list(range(1, len(warnings) + 1))  # unique, no gaps
    # another kind runs its own sequence from 1
    first = _measure(client, findings[0]["id"], "education", team)["id"]
    res = client.get(f"/api/v1/measures/{first}/documents/education_notice", headers=ent)
    assert res.status_code == 200
    assert NUMBER.findall(res.text)[0][1] == "1"
