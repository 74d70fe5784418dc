"""Inspectors, plans, draws, lists, findings (首违不罚) and the public pages over HTTP."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from config.settings import Settings
from domain.clock import utcnow
from domain.draw import verify_bytes
from tests.integration.apiclient import admin, role_headers, seed
from tests.integration.workbench_support import team_inspector, team_of

PERIOD = {"label": "2026-12", "start": "2026-12-01", "end": "2026-12-31"}
REPEAT = {"reason": "staffing_failure", "note": "两名执法人员病假，经局务会同意重抽"}
OFFICERS_CSV = (
    "人员编号,姓名,部门,区县,执法证号,证件有效期起,证件有效期止,专家\n"
    + "".join(
        f"ZF-{i:03d},执法员{i},应急管理局,{('上城区', '拱墅区', '西湖区')[i % 3]},浙A-{i:04d},"
        f"2024-01-01,2029-12-31,否\n"
        for i in range(1, 9)
    )
    + "ZF-bad,,应急管理局,上城区,,,,否\n"
)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def _plan(client: TestClient, h: dict[str, str], **extra: Any) -> dict[str, Any]:
    body = {
        "plan_id": "HZ-2026",
        "title": "2026 年度双随机抽查",
        "team": {"departments": ["应急管理局"]},
        "strata": [{"ratio": "0.5"}],
        "own_county_rule": False,
    } | extra
    res = client.post("/api/v1/plans", json=body, headers=h)
    assert res.status_code == 201, res.text
    return dict(res.json())


def _drawn(client: TestClient, db_url: str) -> tuple[dict[str, str], dict[str, Any], list[str]]:
    h = admin(client)
    codes = seed(db_url, 20)
    files = {"file": ("o.csv", OFFICERS_CSV.encode(), "text/csv")}
    report = client.post("/api/v1/inspectors/import", files=files, headers=h).json()
    assert report["created"] == 8
    assert report["rejected"] == 1
    assert report["errors"][0]["column"] == "姓名"
    _plan(client, h)
    res = client.post("/api/v1/plans/HZ-2026/draw", json={"period": PERIOD}, headers=h)
    assert res.status_code == 200, res.text
    return h, dict(res.json()), codes


def test_plan_draw_detail_lists_and_public_verification(
    client: TestClient, db_url: str, tmp_path: Path
) -> None:
    h, drawn, _ = _drawn(client, db_url)
    assert drawn["state"] == "drawn"
    assert len(drawn["secret"]) == 64
    again = client.post("/api/v1/plans/HZ-2026/draw", json={"period": PERIOD}, headers=h)
    assert again.status_code == 409  # one draw per plan and window
    assert "主管" in again.json()["error"]["message"]
    detail = client.get(f"/api/v1/draws/{drawn['id']}", headers=h).json()
    assert detail["selected"]
    team = next(s for s in detail["selected"] if s["staffed"])
    assert team["leader"]["name"].startswith("执法员")  # staff see who is behind a pseudonym
    assert team["leader"]["certificate_no"].startswith("浙A-")
    assert team["leader"]["pseudonym"].startswith("P")
    assert "ZF-" not in str(team)
    assert {e["kind"] for e in detail["excluded"]} <= {"enterprise", "officer"}

    csv = client.get(f"/api/v1/draws/{drawn['id']}/lists?format=csv", headers=h)
    assert csv.headers["content-type"].startswith("text/csv")
    assert "法律依据" in csv.content.decode("utf-8-sig")
    xlsx = client.get(f"/api/v1/draws/{drawn['id']}/lists?format=xlsx", headers=h)
    assert xlsx.content.startswith(b"PK")
    html = client.get(f"/api/v1/draws/{drawn['id']}/lists", headers=h)
    assert "行政检查任务通知书" in html.text
    assert "回避" in html.text
    assert "default-src 'none'" in html.headers["content-security-policy"]  # runs nothing
    assert "script-src" not in html.headers["content-security-policy"]
    assert 'http-equiv="Content-Security-Policy"' in html.text  # also when saved to disk

    public = client.get("/public/v1/draws").json()
    assert [d["id"] for d in public["items"]] == [drawn["id"]]
    one = client.get(f"/public/v1/draws/{drawn['id']}").json()
    assert "执法员" not in str(one)  # the public sees pseudonyms by default
    assert "浙A-" not in str(one)
    assert next(s for s in one["selected"] if s["staffed"])["leader"]["pseudonym"].startswith("P")
    assert one["document_url"] == f"/public/v1/draws/{drawn['id']}/document"
    doc = client.get(one["document_url"]).content
    assert verify_bytes(doc) is None
    (tmp_path / "draw.json").write_bytes(doc)
    script = client.get("/public/v1/verifier.py")
    assert script.headers["content-type"].startswith("text/x-python")
    (tmp_path / "verifier.py").write_bytes(script.content)
    run = subprocess.run(
        [sys.executable, str(tmp_path / "verifier.py"), str(tmp_path / "draw.json")],
        capture_output=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    trail = client.get("/api/v1/audit", params={"target": f"draw:{drawn['id']}"}, headers=h)
    assert trail.json()["total"] == 1

    body = {"period": PERIOD, "repeat": REPEAT}
    repeat = client.post("/api/v1/plans/HZ-2026/draw", json=body, headers=h)
    assert repeat.status_code == 200, repeat.text
    assert (repeat.json()["attempt"], repeat.json()["repeat_reason"]) == (2, "staffing_failure")
    both = client.get("/public/v1/draws").json()["items"]
    assert {d["id"] for d in both} == {drawn["id"], repeat.json()["id"]}  # both published
    assert "病假" not in str(both)


def test_freeze_then_witnessed_draw(client: TestClient, db_url: str) -> None:
    h = admin(client)
    seed(db_url, 10)
    client.post(
        "/api/v1/inspectors/import",
        files={"file": ("o.csv", OFFICERS_CSV.encode(), "text/csv")},
        headers=h,
    )
    _plan(client, h)
    read_after = (utcnow() + timedelta(seconds=2)).isoformat()
    source = {"kind": "lottery", "name": "双色球", "round": "", "read_after": read_after}
    frozen = client.post(
        "/api/v1/plans/HZ-2026/draw",
        json={"period": PERIOD, "freeze_only": True, "public_source": source},
        headers=h,
    ).json()
    assert frozen["state"] == "frozen"
    assert frozen["secret"] is None
    assert len(frozen["commitment"]) == 64
    listed = client.get("/public/v1/draws").json()["items"][0]
    assert listed["secret"] is None
    url = f"/api/v1/draws/{frozen['id']}/draw"
    early = client.post(url, json={"public_value": "03 17 22"}, headers=h)
    assert early.status_code == 409  # not before the time named at freeze
    assert "之后读取" in early.json()["error"]["message"]
    deadline = time.monotonic() + 30
    while True:  # wait for the named time to pass (a condition, with a generous bound)
        res = client.post(url, json={"public_value": "03 17 22"}, headers=h)
        if res.status_code != 409 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert res.status_code == 200, res.text
    assert res.json()["public_value"] == "3 17 22"  # the canonical spelling
    again = client.post(url, json={"public_value": "1"}, headers=h)
    assert again.status_code == 409


def test_production_freezes_and_draws_in_two_requests(settings: Settings, db_url: str) -> None:
    production = settings.model_copy(update={"draw_test_mode": False})
    with TestClient(create_app(production)) as client:
        h = admin(client)
        seed(db_url, 10)
        client.post(
            "/api/v1/inspectors/import",
            files={"file": ("o.csv", OFFICERS_CSV.encode(), "text/csv")},
            headers=h,
        )
        _plan(client, h)
        refused = client.post("/api/v1/plans/HZ-2026/draw", json={"period": PERIOD}, headers=h)
        assert refused.status_code == 422  # no public value named: refused outside tests
        assert "公开随机数来源" in refused.json()["error"]["message"]
        source = {
            "kind": "beacon",
            "name": "drand quicknet",
            "round": "",
            "read_after": (utcnow() + timedelta(days=1)).isoformat(),
        }
        body = {"period": PERIOD, "public_source": source}
        first = client.post("/api/v1/plans/HZ-2026/draw", json=body, headers=h)
        assert first.status_code == 200, first.text
        assert first.json()["state"] == "frozen"  # the commitment is published first


def test_plan_errors_are_specific(client: TestClient) -> None:
    h = admin(client)
    res = client.post(
        "/api/v1/plans",
        json={"plan_id": "X", "team": {"departments": ["a"], "size": 1}},
        headers=h,
    )
    assert res.status_code == 422
    res = client.post("/api/v1/plans", json={"plan_id": "X", "team": {}, "nope": 1}, headers=h)
    assert res.status_code == 422
    assert client.get("/api/v1/plans/NOPE", headers=h).status_code == 404
    assert client.post("/api/v1/plans/NOPE/draw", json={}, headers=h).status_code == 404


def test_findings_first_violation_results_and_enterprise_scope(
    client: TestClient, db_url: str
) -> None:
    h, drawn, _ = _drawn(client, db_url)
    from psycopg import connect

    with connect(db_url) as conn:
        rows = conn.execute(
            "SELECT id, credit_code FROM inspections WHERE draw_id = %s ORDER BY id", (drawn["id"],)
        ).fetchall()
    (iid, code), (other_iid, _) = rows[0], rows[1]
    url = f"/api/v1/inspections/{iid}/findings"
    as_team = team_inspector(client, db_url, iid)  # only the team's officers record (issue 15)
    finding = {
        "item_code": "SP-TRAIN-01",
        "legal_basis": "安全生产法 第二十八条",
        "cause": "新员工未经安全教育上岗",
        "measure": "补充三级安全教育",
        "deadline": (utcnow().date() + timedelta(days=15)).isoformat(),
        "severity": "minor",
        "harm": "minor",
    }
    for missing in ("legal_basis", "cause", "measure", "deadline"):
        body = {k: v for k, v in finding.items() if k != missing}
        if missing != "deadline":
            body[missing] = " "
        res = client.post(url, json=body, headers=as_team)
        assert res.status_code == 422, (missing, res.text)
        assert missing in str(res.json()["error"])
    assert client.post(url, json=finding, headers=h).status_code == 403  # admin: not the team
    first = client.post(url, json=finding, headers=as_team)
    assert first.status_code == 201, first.text
    assert first.json()["outcome"] == "guidance"  # 首违不罚
    assert first.json()["recommendation"] == "first_violation"
    second = client.post(url, json=finding, headers=as_team).json()
    assert (second["outcome"], second["recommendation"]) == ("penalty_procedure", "case")
    assert any("不属于初次违法" in c["text"] for c in second["advice"])
    checklist = client.get("/api/v1/checklist", headers=h).json()
    assert any(
        i["code"] == "SP-TRAIN-01" and i["first_violation_eligible"] for i in checklist["items"]
    )

    roles = role_headers(client, db_url, code)
    own = client.get(f"/api/v1/inspections/{iid}", headers=roles["enterprise"])
    assert own.status_code == 200
    assert len(own.json()["findings"]) == 2
    assert (
        client.get(f"/api/v1/inspections/{other_iid}", headers=roles["enterprise"]).status_code
        == 403
    )
    assert client.post(url, json=finding, headers=roles["enterprise"]).status_code == 403
    assert client.post(url, json=finding, headers=roles["duty"]).status_code == 403

    # an inspector acts only on inspections of its own team (issue 11): unlinked or outside
    # the team it is refused, linked to a team member it may record and complete
    done_body = {"status": "done", "inspected_on": "2026-11-20"}
    # the leader's account is as_team's; t_inspector is linked to another officer of the team
    staff = team_of(db_url, iid)
    team = [o for o, role in staff if role != "expert"][1:]
    with connect(db_url) as conn:
        outsider = conn.execute(
            "SELECT officer_id FROM officers WHERE officer_id <> ALL(%s) LIMIT 1",
            ([o for o, _ in staff],),
        ).fetchone()[0]
        inspector_id = conn.execute(
            "SELECT id FROM users WHERE username = 't_inspector'"
        ).fetchone()[0]
    link = f"/api/v1/users/{inspector_id}/officer"
    for officer in (None, outsider):
        assert client.put(link, json={"officer_id": officer}, headers=h).status_code == 200
        as_inspector = roles["inspector"]
        assert client.post(url, json=finding, headers=as_inspector).status_code == 403
        cancel = client.patch(
            f"/api/v1/inspections/{iid}", json={"status": "cancelled"}, headers=as_inspector
        )
        assert cancel.status_code == 403, cancel.text
        assert (
            client.patch(
                f"/api/v1/inspections/{iid}", json=done_body, headers=as_inspector
            ).status_code
            == 403
        )
    assert client.put(link, json={"officer_id": team[0]}, headers=roles["duty"]).status_code == 403
    assert client.put(link, json={"officer_id": team[0]}, headers=h).status_code == 200
    done = client.patch(f"/api/v1/inspections/{iid}", json=done_body, headers=roles["inspector"])
    assert done.status_code == 200, done.text
    results = client.get("/public/v1/results").json()
    assert results["total"] == 1
    assert results["items"][0]["guidance"] == 1
    assert results["items"][0]["penalty_procedure"] == 1
    again = client.patch(f"/api/v1/inspections/{iid}", json={"status": "cancelled"}, headers=h)
    assert again.status_code == 409
