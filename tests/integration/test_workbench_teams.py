"""The team-only rule, team changes, inspections made by hand and evidence files over HTTP,
against the real database (issue 15, slice a)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from config.settings import Settings
from tests.integration.apiclient import Headers, add_user, login, role_headers
from tests.integration.test_api_draws import _drawn
from tests.integration.workbench_support import inspector_as, team_inspector, team_of

FINDING = {
    "item_code": "SP-TRAIN-01",
    "legal_basis": "安全生产法 第二十八条",
    "cause": "新入职员工三人未经三级安全教育即上岗作业",
    "measure": "组织补训并考核合格后上岗，建立培训档案",
    "deadline": "2099-01-31",
    "severity": "minor",
}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
EXPERT = {
    "officer_id": "ZJ-001",
    "name": "王专家",
    "department": "应急管理局",
    "county": "上城区",
    "auxiliary": True,
}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def _first_inspection(db_url: str, draw_id: int) -> tuple[int, str]:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT id, credit_code FROM inspections WHERE draw_id = %s ORDER BY id LIMIT 1",
            (draw_id,),
        ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def _audit(db_url: str, action: str, target: str) -> list[Any]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT username, after FROM audit_log WHERE action = %s AND target = %s ORDER BY id",
            (action, target),
        ).fetchall()


def test_team_only_recording_and_a_supervisors_team_change(client: TestClient, db_url: str) -> None:
    h, drawn, _ = _drawn(client, db_url)
    iid, code = _first_inspection(db_url, drawn["id"])
    url = f"/api/v1/inspections/{iid}/findings"
    roles = role_headers(client, db_url, code)
    staff = team_of(db_url, iid)
    leader = team_inspector(client, db_url, iid)
    assert client.post(url, json=FINDING, headers=leader).status_code == 201
    for who in ("admin", "supervisor"):  # they oversee, they do not record
        res = client.post(url, json=FINDING, headers=roles[who])
        assert res.status_code == 403
    outsider_id = next(
        f"ZF-{i:03d}" for i in range(1, 9) if f"ZF-{i:03d}" not in {o for o, _ in staff}
    )
    outsider = inspector_as(client, db_url, outsider_id)
    res = client.post(url, json=FINDING, headers=outsider)
    assert res.status_code == 403
    assert "只有本次检查的检查组成员" in res.json()["error"]["message"]

    detail = client.get(f"/api/v1/inspections/{iid}", headers=roles["enterprise"]).json()
    assert detail["team"][0]["role_label"] == "检查组长"
    assert detail["team"][0]["certificate_no"].startswith("浙A-")  # 行政处罚法 第五十五条

    assert client.post("/api/v1/inspectors", json=EXPERT, headers=h).status_code == 200
    new_team = [
        {"officer_id": outsider_id, "role": "leader"},
        {"officer_id": staff[0][0], "role": "member"},
        {"officer_id": "ZJ-001", "role": "expert"},
    ]
    team_url = f"/api/v1/inspections/{iid}/team"
    res = client.put(team_url, json={"staff": new_team, "reason": "调整"}, headers=h)
    assert res.status_code == 422
    assert "至少5个字" in res.json()["error"]["message"]
    body = {"staff": new_team, "reason": "原组长借调专项检查，由主管调整检查组"}
    assert client.put(team_url, json=body, headers=leader).status_code == 403
    alone = {"staff": [new_team[0], new_team[2]], "reason": body["reason"]}
    res = client.put(team_url, json=alone, headers=roles["supervisor"])
    assert res.status_code == 422
    assert "至少需要两名执法人员" in res.text  # an expert never makes up the pair
    res = client.put(team_url, json=body, headers=roles["supervisor"])
    assert res.status_code == 200, res.text
    assert [m["role"] for m in res.json()] == ["leader", "member", "expert"]
    [(actor, after)] = _audit(db_url, "inspection.team_change", f"inspection:{iid}")
    assert actor == "t_supervisor"
    assert after["reason"] == body["reason"]
    assert client.post(url, json=FINDING, headers=outsider).status_code == 201  # now on the team
    expert = inspector_as(client, db_url, "ZJ-001")
    res = client.post(url, json=FINDING, headers=expert)
    assert res.status_code == 403
    assert "辅助人员" in res.json()["error"]["message"]
    dropped = [o for o, _ in staff if o not in {outsider_id, staff[0][0]}]
    if dropped:  # the officers taken off the team no longer record
        gone = inspector_as(client, db_url, dropped[0])
        assert client.post(url, json=FINDING, headers=gone).status_code == 403


def test_inspections_by_hand_count_toward_the_yearly_cap_and_are_refused_beyond_it(
    client: TestClient, db_url: str
) -> None:
    h, drawn, _ = _drawn(client, db_url)
    origin, code = _first_inspection(db_url, drawn["id"])
    add_user(db_url, "wb_sup", "supervisor")
    sup = login(client, "wb_sup", "role-password-1234")
    team = [{"officer_id": "ZF-001", "role": "leader"}, {"officer_id": "ZF-002", "role": "member"}]
    base = {
        "credit_code": code,
        "reason": "12345 热线举报夜间违规动火作业",
        "planned_from": "2026-12-04",
        "planned_to": "2026-12-10",
        "staff": team,
    }
    with psycopg.connect(db_url) as conn:
        before = conn.execute(
            "SELECT inspections FROM inspection_counts WHERE credit_code = %s AND year = 2026",
            (code,),
        ).fetchone()
    cap = client.get(f"/api/v1/enterprises/{code}/inspection-cap?year=2026", headers=sup).json()
    assert (cap["cap"], cap["counted"], cap["remaining"]) == (2, 1, 1)  # the drawn one counts
    assert [i["id"] for i in cap["inspections"]] == [origin]
    made = []
    for source, extra in (
        ("targeted", {}),
        ("complaint", {}),
        ("follow_up", {"follow_up_of": origin}),
    ):
        res = client.post(
            "/api/v1/inspections", json=base | {"source": source} | extra, headers=sup
        )
        assert res.status_code == 201, res.text
        made.append(res.json()["id"])
        # the cap (2 in config/sampling_strata.yaml) is now taken: the next one is refused ...
        refused = client.post(
            "/api/v1/inspections", json=base | {"source": "targeted"}, headers=sup
        )
        assert refused.status_code == 409, refused.text
        assert "2026年度检查次数已达上限（2次，已有2次）" in refused.json()["error"]["message"]
        # ... until one is cancelled (a cancelled inspection does not count)
        res = client.patch(
            f"/api/v1/inspections/{made[-1]}", json={"status": "cancelled"}, headers=sup
        )
        assert res.status_code == 200, res.text
    res = client.post("/api/v1/inspections", json=base | {"source": "follow_up"}, headers=sup)
    assert res.status_code == 422
    assert "复查必须关联原检查记录" in res.json()["error"]["message"]
    res = client.post("/api/v1/inspections", json=base | {"source": "draw"}, headers=sup)
    assert res.status_code == 422
    inspector = inspector_as(client, db_url, "ZF-003")
    res = client.post("/api/v1/inspections", json=base | {"source": "targeted"}, headers=inspector)
    assert res.status_code == 403
    assert (
        client.get(f"/api/v1/enterprises/{code}/inspection-cap", headers=inspector).status_code
        == 403
    )
    with psycopg.connect(db_url) as conn:
        after = conn.execute(
            "SELECT inspections FROM inspection_counts WHERE credit_code = %s AND year = 2026",
            (code,),
        ).fetchone()
    assert after is not None
    assert after[0] == (before[0] if before else 0)  # the three made were cancelled again
    cap = client.get(f"/api/v1/enterprises/{code}/inspection-cap?year=2026", headers=sup).json()
    assert (cap["counted"], cap["remaining"]) == (1, 1)
    assert [i["status"] for i in cap["inspections"]] == ["planned"] + ["cancelled"] * 3
    detail = client.get(f"/api/v1/inspections/{made[2]}", headers=h).json()
    assert (detail["source"], detail["follow_up_of"]) == ("follow_up", origin)
    assert detail["reason"] == base["reason"]
    [(actor, audited)] = _audit(db_url, "inspection.create", f"inspection:{made[1]}")
    assert (actor, audited["source"], audited["reason"]) == ("wb_sup", "complaint", base["reason"])


def test_evidence_files_sha256_type_size_and_ownership(client: TestClient, db_url: str) -> None:
    h, drawn, codes = _drawn(client, db_url)
    iid, code = _first_inspection(db_url, drawn["id"])
    team = team_inspector(client, db_url, iid)
    url = f"/api/v1/inspections/{iid}/evidence"
    photo = {"file": ("../现场照片.png", PNG, "image/png")}
    res = client.post(url, files=photo, data={"note": "配电室门口"}, headers=team)
    assert res.status_code == 201, res.text
    stored = res.json()
    assert stored["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert (stored["filename"], stored["media_type"]) == ("现场照片.png", "image/png")
    disguised = {"file": ("photo.jpg", b"MZ\x90\x00" + b"\x00" * 100, "image/jpeg")}
    res = client.post(url, files=disguised, headers=team)
    assert res.status_code == 422
    assert "只接受以下类型的证据文件" in res.json()["error"]["message"]
    big = {"file": ("big.png", PNG + b"\x00" * (10 * 1024 * 1024), "image/png")}
    res = client.post(url, files=big, headers=team)
    assert res.status_code == 413
    assert client.post(url, files=photo, headers=h).status_code == 403  # admin: not the team

    own: Headers = role_headers(client, db_url, code)["enterprise"]
    got = client.get(stored["url"], headers=own)
    assert got.status_code == 200
    assert got.content == PNG
    assert got.headers["x-content-sha256"] == stored["sha256"]
    assert [e["id"] for e in client.get(url, headers=own).json()] == [stored["id"]]
    other = next(c for c in codes if c != code)
    add_user(db_url, "wb_other_ent", "enterprise", other)
    stranger = login(client, "wb_other_ent", "role-password-1234")
    assert client.get(stored["url"], headers=stranger).status_code == 403
    assert client.get(url, headers=stranger).status_code == 403
    [(_, after)] = _audit(db_url, "evidence.upload", f"evidence:{stored['id']}")
    assert after["sha256"] == stored["sha256"]
