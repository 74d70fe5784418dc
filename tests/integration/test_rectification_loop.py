"""The rectification loop end to end against the real database: a drawn inspection through
findings → order (MQTT notice queued) → enterprise acknowledgement and evidence → reminder →
overdue escalation → 复查 → closed; a second through extension and lapse to 立案; measures 3 and
4 as typed records with their preconditions; the audit log holds every step (issue 15, d)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from config.policy import load_policies
from config.settings import DEFAULT_POLICY_DIR, Settings
from domain.clock import utcnow
from scheduler.jobs_reminders import send_due_reminders
from services import findings as finding_service
from services import rectification
from tests.integration.apiclient import Headers, role_headers
from tests.integration.test_api_draws import _drawn
from tests.integration.test_workbench_teams import PNG, _first_inspection
from tests.integration.workbench_support import team_inspector, team_of

T = TypeVar("T")
RULES = load_policies(DEFAULT_POLICY_DIR).monitoring.rules
TODAY = utcnow().date()
NOW_AWARE = utcnow()
SOON = TODAY + timedelta(days=10)
LATER = TODAY + timedelta(days=20)
FIRST = {
    "item_code": "SP-TRAIN-01",
    "legal_basis": "安全生产法 第二十八条",
    "cause": "新入职员工3人未经三级安全教育即上岗作业",
    "measure": "组织补训并考核合格后上岗，建立培训档案",
    "deadline": SOON.isoformat(),
    "severity": "minor",
    "harm": "none",
}
SECOND = FIRST | {
    "item_code": "SP-SIGN-01",
    "legal_basis": "安全生产法 第三十五条",
    "cause": "储罐区入口未设置安全警示标志，夜间照明不足",
    "measure": "在储罐区入口设置符合国家标准的安全警示标志",
    "deadline": LATER.isoformat(),
    "severity": "general",
    "harm": "minor",
}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def _run(db_url: str, work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]]) -> T:
    async def go() -> T:
        async with await psycopg.AsyncConnection.connect(db_url) as conn:
            result = await work(conn)
            await conn.commit()
            return result

    return asyncio.run(go())


def _actions(db_url: str, since: int) -> list[str]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT action FROM audit_log WHERE id > %s ORDER BY id", (since,))
        return [str(r[0]) for r in rows]


def _audit_mark(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()
    assert row is not None
    return int(row[0])


def _setup(client: TestClient, db_url: str) -> tuple[int, str, Headers, Headers, Headers]:
    _, drawn, _ = _drawn(client, db_url)
    iid, code = _first_inspection(db_url, drawn["id"])
    team = team_inspector(client, db_url, iid)
    roles = role_headers(client, db_url, code)
    return iid, code, team, roles["enterprise"], roles["supervisor"]


def test_drawn_inspection_to_closed_rectification(client: TestClient, db_url: str) -> None:
    iid, code, team, ent, sup = _setup(client, db_url)
    mark = _audit_mark(db_url)
    url = f"/api/v1/inspections/{iid}/findings"
    f1 = client.post(url, json=FIRST, headers=team).json()
    f2 = client.post(url, json=SECOND, headers=team).json()
    assert client.post(f"/api/v1/inspections/{iid}/rectification", headers=ent).status_code == 403
    res = client.post(f"/api/v1/inspections/{iid}/rectification", headers=team)
    assert res.status_code == 201, res.text
    order = res.json()
    assert order["doc_no"].startswith("昌州应急责改〔")
    assert order["deadline"] == LATER.isoformat()
    assert [f["id"] for f in order["findings"]] == [f1["id"], f2["id"]]
    with psycopg.connect(db_url) as conn:
        notice = conn.execute(
            "SELECT channel, kind, extra FROM downlinks WHERE enterprise_id = %s ORDER BY id DESC",
            (code,),
        ).fetchone()
    assert notice is not None
    assert notice[:2] == ("notice", "rectification_order")  # the MQTT notice to the site
    assert notice[2]["doc_no"] == order["doc_no"]
    again = client.post(f"/api/v1/inspections/{iid}/rectification", headers=team)
    assert again.status_code == 409

    oid = order["id"]
    assert [o["id"] for o in client.get("/api/v1/rectifications", headers=ent).json()] == [oid]
    assert client.post(f"/api/v1/rectifications/{oid}/ack", headers=team).status_code == 403
    res = client.post(f"/api/v1/rectifications/{oid}/ack", headers=ent)
    assert res.status_code == 200
    assert res.json()["state"] == "acknowledged"
    photo = {"file": ("整改后.png", PNG, "image/png")}
    res = client.post(
        f"/api/v1/rectifications/{oid}/evidence", files=photo, data={"note": "已设置"}, headers=ent
    )
    assert res.status_code == 201, res.text
    detail = client.get(f"/api/v1/rectifications/{oid}", headers=ent).json()
    assert detail["state"] == "submitted"
    assert [e["sha256"] for e in detail["evidence"]] == [res.json()["sha256"]]

    # a reminder before the deadline (reminders.yaml: 3 days before)
    policies = load_policies(DEFAULT_POLICY_DIR)
    now = datetime.now(UTC)
    sent = _run(
        db_url,
        lambda c: send_due_reminders(
            c,
            today=SOON - timedelta(days=3),
            now=now,
            policy=policies.reminders,
            schedule=policies.licences,
            notice_life=timedelta(days=7),
        ),
    )
    assert [r.subject for r in sent if r.kind == "rectification_deadline"] == [
        f"finding:{f1['id']}"
    ]
    # past the order's deadline without a closing 复查: escalated once
    late = LATER + timedelta(days=1)
    assert _run(
        db_url, lambda c: rectification.sweep_overdue(c, today=late, now=now, alarm_rules=RULES)
    ) == [oid]
    assert (
        _run(
            db_url, lambda c: rectification.sweep_overdue(c, today=late, now=now, alarm_rules=RULES)
        )
        == []
    )
    assert client.get(f"/api/v1/rectifications/{oid}", headers=sup).json()["state"] == "overdue"

    # 复查 by a follow-up inspection's team closes each finding, then the order
    leader, member = (o for o, r in team_of(db_url, iid) if r != "expert")
    body = {
        "credit_code": code,
        "source": "follow_up",
        "follow_up_of": iid,
        "reason": "整改期限届满，对整改情况进行复查",
        "planned_from": TODAY.isoformat(),
        "planned_to": (TODAY + timedelta(days=30)).isoformat(),
        "staff": [
            {"officer_id": leader, "role": "leader"},
            {"officer_id": member, "role": "member"},
        ],
    }
    follow = client.post("/api/v1/inspections", json=body, headers=sup)
    assert follow.status_code == 201, follow.text
    fid = follow.json()["id"]
    res = client.post(
        f"/api/v1/findings/{f1['id']}/reinspection",
        json={"inspection_id": fid, "result": "failed"},
        headers=team,
    )
    assert res.status_code == 422  # a failed 复查 says why
    res = client.post(
        f"/api/v1/findings/{f1['id']}/reinspection",
        json={"inspection_id": fid, "result": "passed", "method": "video"},
        headers=team,
    )
    assert res.status_code == 422
    assert "视频复查必须关联视频会话" in res.json()["error"]["message"]
    # f1 by video: the session with the enterprise whose recording is the evidence
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO video_sessions (id, enterprise_id, requested_by, purpose, state,"
            " recording_path, recording_bytes, ended_at) VALUES"
            " ('reinspect-1', %s, 'insp', 'alarm', 'ended', 'rec/reinspect-1.webm', 10, now())",
            (code,),
        )
    by_video = {"inspection_id": fid, "result": "passed", "method": "video",
                "video_session_id": "reinspect-1", "note": "视频复查：警示标志已设置"}  # fmt: skip
    res = client.post(f"/api/v1/findings/{f1['id']}/reinspection", json=by_video, headers=team)
    assert res.status_code == 200, res.text
    assert (res.json()["reinspection_method"], res.json()["reinspection_result"]) == (
        "video",
        "passed",
    )
    res = client.post(
        f"/api/v1/findings/{f2['id']}/reinspection",
        json={"inspection_id": fid, "result": "passed", "note": "现场核实已整改"},
        headers=team,
    )
    assert res.status_code == 200, res.text
    assert res.json()["reinspection_result"] == "passed"
    closed = client.get(f"/api/v1/rectifications/{oid}", headers=ent).json()
    assert closed["state"] == "closed"
    assert all(f["verified_on"] for f in closed["findings"])
    # verified in time: the provisional 不予处罚 does not lapse
    assert _run(db_url, lambda c: finding_service.lapse_due(c, today=late, now=now)) == []
    actions = _actions(db_url, mark)
    for step in (
        "finding.create",
        "rectification.issue",
        "rectification.acknowledge",
        "rectification.evidence",
        "rectification.overdue",
        "inspection.create",
        "finding.reinspect",
    ):
        assert step in actions, (step, actions)
    assert actions.count("finding.reinspect") == 2


def test_extension_then_lapse_to_case(client: TestClient, db_url: str) -> None:
    iid, _, team, ent, sup = _setup(client, db_url)
    mark = _audit_mark(db_url)
    f1 = client.post(f"/api/v1/inspections/{iid}/findings", json=FIRST, headers=team).json()
    assert f1["recommendation"] == "no_penalty"
    assert f1["provisional"]
    oid = client.post(f"/api/v1/inspections/{iid}/rectification", headers=team).json()["id"]
    ext_url = f"/api/v1/rectifications/{oid}/extensions"
    res = client.post(
        ext_url, json={"requested_deadline": SOON.isoformat(), "reason": "设备未到货"}, headers=ent
    )
    assert res.status_code == 422
    assert "必须晚于当前期限" in res.json()["error"]["message"]
    longer = (SOON + timedelta(days=20)).isoformat()
    res = client.post(
        ext_url, json={"requested_deadline": longer, "reason": "警示标志订制未到货"}, headers=ent
    )
    assert res.status_code == 201, res.text
    ext = res.json()["id"]
    decide = f"/api/v1/rectification-extensions/{ext}/decide"
    assert (
        client.post(
            decide, json={"approve": True, "reason": "理由充分，同意延期"}, headers=team
        ).status_code
        == 403
    )
    res = client.post(decide, json={"approve": True, "reason": "理由充分，同意延期"}, headers=sup)
    assert res.status_code == 200, res.text
    assert res.json()["deadline"] == longer
    assert res.json()["findings"][0]["deadline"] == longer
    assert res.json()["findings"][0]["verify_by"] == SOON.isoformat()  # 及时 stays the original
    assert (
        client.post(
            decide, json={"approve": False, "reason": "重复审批测试"}, headers=sup
        ).status_code
        == 409
    )

    now = datetime.now(UTC)
    lapsed = _run(
        db_url, lambda c: finding_service.lapse_due(c, today=SOON + timedelta(days=1), now=now)
    )
    assert lapsed == [f1["id"]]
    after = client.get(f"/api/v1/findings/{f1['id']}", headers=sup).json()
    assert after["recommendation"] == "case"
    actions = _actions(db_url, mark)
    for step in (
        "rectification.issue",
        "rectification.extension_request",
        "rectification.extension_approved",
        "finding.lapse",
    ):
        assert step in actions, (step, actions)


def test_measures_with_their_preconditions(client: TestClient, db_url: str) -> None:
    iid, code, team, ent, _ = _setup(client, db_url)
    with psycopg.connect(db_url) as conn:
        sector = conn.execute(
            "SELECT sector FROM enterprises WHERE credit_code = %s", (code,)
        ).fetchone()[0]  # type: ignore[index]
    hazchem = sector.startswith("hazchem")
    major = FIRST | {
        "item_code": "HC-MAJOR-01" if hazchem else "GM-MAJOR-01",
        "legal_basis": "安全生产法 第一百一十八条",
        "severity": "major_hazard",
        "cause": "可燃气体泄漏场所未设置检测报警装置",
        "measure": "立即设置检测报警装置并经检测合格",
    }
    major |= (
        {"hazard_criterion": "HC121-12"}
        if hazchem
        else {"criterion_text": "按行业判定标准第三条认定的重大事故隐患"}
    )
    f_major = client.post(f"/api/v1/inspections/{iid}/findings", json=major, headers=team).json()
    f_minor = client.post(f"/api/v1/inspections/{iid}/findings", json=FIRST, headers=team).json()
    m_major = f"/api/v1/findings/{f_major['id']}/measures"
    m_minor = f"/api/v1/findings/{f_minor['id']}/measures"
    res = client.post(
        m_minor,
        json={
            "kind": "interview",
            "content": "约谈企业主要负责人，督促落实培训制度",
            "meeting_at": (NOW_AWARE + timedelta(days=2)).isoformat(),
            "meeting_place": "州应急管理局三楼会议室",
            "meeting_attendee": "企业主要负责人",
        },
        headers=team,
    )
    assert res.status_code == 201, res.text
    assert res.json()["doc_no"].startswith("昌州应急措施〔")
    stop = {"kind": "suspend_production", "content": "责令储罐区暂时停产，撤出作业人员"}
    res = client.post(m_minor, json=stop | {"safety_not_ensured": True}, headers=team)
    assert res.status_code == 422
    assert "只适用于重大事故隐患" in res.json()["error"]["details"]["kind"]
    res = client.post(m_major, json=stop, headers=team)
    assert res.status_code == 422
    assert "无法保证安全" in res.json()["error"]["details"]["safety_not_ensured"]
    res = client.post(m_major, json=stop | {"safety_not_ensured": True}, headers=team)
    assert res.status_code == 201, res.text
    suspension = res.json()["id"]
    power = {
        "kind": "stop_power",
        "content": "通知供电单位对该企业停止供电",
        "imminent_danger": True,
        "head_approval": "局长张某某批准（昌州应急批〔2026〕1号）",
    }
    res = client.post(m_major, json=power, headers=team)
    assert res.status_code == 422
    assert "拒不执行" in res.json()["error"]["details"]["refused_before"]
    res = client.post(
        f"/api/v1/measures/{suspension}/refusal",
        json={"note": "企业负责人拒绝停产并继续作业"},
        headers=team,
    )
    assert res.status_code == 200, res.text
    res = client.post(m_major, json=power | {"head_approval": ""}, headers=team)
    assert "主要负责人批准" in res.json()["error"]["details"]["head_approval"]
    res = client.post(m_major, json=power, headers=team)
    assert res.status_code == 201, res.text
    listed = client.get(m_major, headers=ent).json()
    assert [m["kind"] for m in listed] == ["suspend_production", "stop_power"]
    refusal = {"note": "再次拒绝停产作业"}
    res = client.post(f"/api/v1/measures/{suspension}/refusal", json=refusal, headers=ent)
    assert res.status_code == 403  # recorded by the team, not by the enterprise
