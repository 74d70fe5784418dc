"""The audit/live invariant: every state-changing route of the OpenAPI schema, called once,
writes exactly one audit record and at least one live change in the same transaction
(services.changes.record) — or is listed in EXEMPT with the reason it changes no record.

Routes are read from the running app's schema, so a route added later fails here until it
has a SCENARIO (or an EXEMPT reason)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from config.policy import load_policies
from config.settings import Settings
from domain.clock import utcnow
from domain.credit_code import make_credit_code
from domain.i18n import msg
from domain.monitoring import EnterpriseId, raise_one
from domain.status_model import EnterpriseStatus, Mode
from services import alarms as alarm_service
from storage import enterprise_status, restart_requests
from tests.integration.apiclient import PASSWORD, add_user, admin, login, seed
from tests.integration.test_api_draws import OFFICERS_CSV, PERIOD
from tests.integration.workbench_support import inspector_as, team_inspector

STATE_CHANGING = {"post", "put", "patch", "delete"}

#: (METHOD, path) → why calling it changes no stored record, so it writes no audit entry.
EXEMPT: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/auth/token"): "signs in: issues a token (attempts go to login_attempts)",
    ("POST", "/api/v1/auth/refresh"): "renews a token; no record changes",
    ("POST", "/api/v1/video/sessions/{session_id}/viewer"): (
        "attaches a WebRTC viewer to an open session in this process's memory"
    ),
    ("DELETE", "/api/v1/video/sessions/{session_id}/viewers/{viewer_id}"): (
        "detaches a WebRTC viewer; the session stays as it is"
    ),
    ("POST", "/api/v1/video/sessions/{session_id}/phone-offer"): (
        "the site side of a requested session, as a site agent's MQTT offer: the session's state "
        "changes are the video store's (its row and 'video' live change), audited at the request"
    ),
}

HOW_TO = (
    "Each state-changing route must write exactly one audit record and its live change in one "
    "transaction: put the use case in services/<concept>.py and finish it with "
    "services.changes.record(conn, actor=Actor(principal, client_ip(request)), "
    "audit_entry=Audit(action, target, before, after), changes=[(kind, enterprise_id, payload)]) "
    "(docs/architecture.md, 'How to write a use case'). Then add a SCENARIO for the route in "
    "tests/integration/test_audit_invariant.py (a function that prepares what the call needs "
    "and returns the Call), or, if the route changes no stored record, add it to EXEMPT with "
    "the reason."
)


@dataclass
class World:
    """What scenarios share: the client, admin headers, the database and seeded codes."""

    client: TestClient
    h: dict[str, str]
    db_url: str
    settings: Settings
    codes: list[str]
    made: dict[str, Any] = field(default_factory=dict)

    def ok(self, method: str, url: str, **kwargs: Any) -> Any:
        res = self.client.request(method, url, headers=self.h, **kwargs)
        assert res.status_code < 300, f"{method} {url}: {res.status_code} {res.text}"
        return res.json() if res.content else None


@dataclass(frozen=True)
class Call:
    """The one request whose records are counted."""

    method: str
    url: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] | None = None  # another account than the admin's


_n = itertools.count(1)
#: Hand-made inspections go to a different enterprise each time: the yearly cap (2) allows one
#: beside a drawn inspection of the same year.
_hand = itertools.count(0)


def _officers(w: World) -> None:
    if "officers" not in w.made:
        files = {"file": ("o.csv", OFFICERS_CSV.encode(), "text/csv")}
        w.made["officers"] = w.ok("POST", "/api/v1/inspectors/import", files=files)


def _plan(w: World, plan_id: str) -> str:
    _officers(w)
    body = {
        "plan_id": plan_id,
        "title": "审计不变量测试计划",
        "team": {"departments": ["应急管理局"]},
        "strata": [{"ratio": "0.5"}],
        "own_county_rule": False,
    }
    w.ok("POST", "/api/v1/plans", json=body)
    return plan_id


def _inspection(w: World) -> int:
    plan_id = _plan(w, f"AUD-{next(_n)}")
    drawn = w.ok("POST", f"/api/v1/plans/{plan_id}/draw", json={"period": PERIOD})
    with psycopg.connect(w.db_url) as conn:
        row = conn.execute(
            "SELECT min(id) FROM inspections WHERE draw_id = %s", (drawn["id"],)
        ).fetchone()
    assert row is not None
    assert row[0] is not None, "the draw planned no inspection"
    return int(row[0])


def _frozen_draw(w: World) -> int:
    """A draw frozen for a witnessed session, returned once its public value may be read."""
    plan_id = _plan(w, "AUD-WITNESS")
    # The read-after time must be later than the freeze: leave the freeze call 2 s on a
    # loaded machine (the plan is made first, so its time does not count).
    read_after = utcnow() + timedelta(seconds=2)
    source = {
        "kind": "lottery",
        "name": "双色球",
        "round": "",
        "read_after": read_after.isoformat(),
    }
    frozen = w.ok(
        "POST",
        f"/api/v1/plans/{plan_id}/draw",
        json={"period": PERIOD, "freeze_only": True, "public_source": source},
    )
    while utcnow() <= read_after:  # a wall-clock condition: the named time must pass
        time.sleep(0.05)
    return int(frozen["id"])


def _seed_monitoring(w: World, work: Callable[[Any], Any]) -> Any:
    async def run() -> Any:
        async with await psycopg.AsyncConnection.connect(w.db_url) as conn:
            result = await work(conn)
            await conn.commit()
            return result

    return asyncio.run(run())


def _restart_request(w: World) -> int:
    ent = EnterpriseId(w.codes[next(_n) % len(w.codes)])
    event_id = f"RR-{next(_n)}"
    now = utcnow()

    async def work(conn: Any) -> int:
        status = EnterpriseStatus(
            ent, mode=Mode.RESTART_REQUESTED, mode_since=now, restart_request=event_id
        )
        await enterprise_status.touch_activity(conn, activity={ent: now})
        await enterprise_status.save_statuses(conn, statuses=[status])
        row = {
            "ent": ent,
            "event_id": event_id,
            "ts": now.isoformat(),
            "planned_at": (now + timedelta(days=1)).isoformat(),
            "self_check": [{"item": "安全设施完好", "ok": True, "note": None}],
            "failed": 0,
        }
        [request_id] = await restart_requests.insert_requests(conn, requests=[row])
        assert request_id is not None
        return request_id

    return int(_seed_monitoring(w, work))


def _alarm(w: World) -> int:
    ent = EnterpriseId(w.codes[0])
    policy = load_policies(w.settings.policy_dir).monitoring
    rule = next(iter(policy.rules))
    subject = f"audit-test-{next(_n)}"

    async def work(conn: Any) -> int:
        [alarm_id] = await alarm_service.apply_outcome(
            conn,
            raise_one(ent, rule, subject, msg("alarm.maintenance_unknown", maint_id=subject)),
            rules=policy.rules,
            now=utcnow(),
        )
        return alarm_id

    return int(_seed_monitoring(w, work))


def _user(w: World, role: str = "duty") -> int:
    body = {
        "username": f"audit{next(_n)}",
        "display_name": "审计测试",
        "password": "audit-password-123",
        "role": role,
    }
    return int(w.ok("POST", "/api/v1/users", json=body)["id"])


def _portal(path: str, body: dict[str, Any]) -> Callable[[World], Call]:
    """A report from the enterprise's own account, answered at once (the ingest is not
    running here; the report stays queued)."""

    def call(w: World) -> Call:
        ent = w.codes[0]
        if "portal" not in w.made:
            add_user(w.db_url, "audit_ent", "enterprise", ent)
            w.made["portal"] = login(w.client, "audit_ent", PASSWORD)
        headers = {**w.made["portal"], "Prefer": "respond-async"}
        return Call("POST", f"/api/v1/enterprises/{ent}/{path}", {"json": body}, headers)

    return call


def _own_account(w: World, role: str = "enterprise") -> dict[str, str]:
    """Headers of a fresh account (an enterprise manager of the first code by default)."""
    name = f"self{next(_n)}"
    add_user(w.db_url, name, role, w.codes[0] if role == "enterprise" else None)
    return login(w.client, name, PASSWORD)


def _reporter(w: World) -> Call:
    h = _own_account(w)
    ent = w.codes[0]
    body = {"username": f"rep{next(_n)}", "password": "reporter-pass-1"}
    made = w.client.post(f"/api/v1/enterprises/{ent}/accounts", json=body, headers=h).json()
    return Call("POST", f"/api/v1/enterprises/{ent}/accounts/{made['id']}/deactivate", {}, h)


def _officer_link(w: World) -> Call:
    # An officer of its own: the imported ones may already be linked to an account (the
    # workbench scenarios link one to whichever officer the draw made team leader).
    officer = {
        "officer_id": "ZF-901",
        "name": "关联执法员",
        "department": "应急管理局",
        "county": "上城区",
        "certificate_no": "浙A-9010",
        "certificate_valid_from": "2024-01-01",
        "certificate_valid_to": "2029-12-31",
    }
    w.ok("POST", "/api/v1/inspectors", json=officer)
    user = _user(w, "inspector")
    return Call("PUT", f"/api/v1/users/{user}/officer", {"json": {"officer_id": "ZF-901"}})


#: The smallest PNG signature an evidence upload is sniffed as.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _as_team(w: World, method: str, tail: str, kwargs: dict[str, Any]) -> Call:
    """A call on a drawn inspection (one for all such calls: each draw uses up officers) by
    an inspector linked to its team leader."""
    if "team_inspection" not in w.made:
        inspection = _inspection(w)
        w.made["team_inspection"] = (inspection, team_inspector(w.client, w.db_url, inspection))
    inspection, headers = w.made["team_inspection"]
    return Call(method, f"/api/v1/inspections/{inspection}/{tail}", kwargs, headers)


def _finding(w: World) -> tuple[int, dict[str, str]]:
    """A finding recorded by the team (and the team's headers)."""
    call = _as_team(w, "POST", "findings", {"json": FINDING})
    res = w.client.post(call.url, json=FINDING, headers=call.headers)
    assert res.status_code == 201, res.text
    assert call.headers is not None
    return int(res.json()["id"]), call.headers


def _on_finding(w: World, tail: str, body: dict[str, Any]) -> Call:
    finding_id, headers = _finding(w)
    return Call("POST", f"/api/v1/findings/{finding_id}/{tail}", {"json": body}, headers)


def _hand_inspection(w: World) -> tuple[int, str, dict[str, str]]:
    """A hand-made inspection (no draw needed) and its team leader's headers."""
    body = _by_hand(w)
    code = body["credit_code"]
    body |= {
        "staff": [
            {"officer_id": "ZF-007", "role": "leader"},
            {"officer_id": "ZF-008", "role": "member"},
        ],
    }
    iid = int(w.ok("POST", "/api/v1/inspections", json=body)["id"])
    return iid, code, inspector_as(w.client, w.db_url, "ZF-007")


def _recorded(w: World, finding: dict[str, Any] | None = None) -> tuple[int, str, Any, int]:
    iid, code, team = _hand_inspection(w)
    res = w.client.post(
        f"/api/v1/inspections/{iid}/findings", json=finding or FINDING, headers=team
    )
    assert res.status_code == 201, res.text
    return iid, code, team, int(res.json()["id"])


def _order(w: World) -> tuple[int, dict[str, str], dict[str, str]]:
    """A fresh rectification order, the enterprise's headers and the team's."""
    iid, code, team, _ = _recorded(w)
    res = w.client.post(f"/api/v1/inspections/{iid}/rectification", headers=team)
    assert res.status_code == 201, res.text
    add_user(w.db_url, f"aud_{code}", "enterprise", code)
    return int(res.json()["id"]), login(w.client, f"aud_{code}", PASSWORD), team


def _extension(w: World) -> int:
    order_id, ent, _ = _order(w)
    body = {"requested_deadline": "2099-03-01", "reason": "整改设备订货周期较长"}
    res = w.client.post(f"/api/v1/rectifications/{order_id}/extensions", json=body, headers=ent)
    assert res.status_code == 201, res.text
    return int(res.json()["id"])


def _suspension(w: World) -> tuple[int, dict[str, str]]:
    major = FINDING | {
        "item_code": "HC-MAJOR-01",
        "legal_basis": "安全生产法 第一百一十八条",
        "severity": "major_hazard",
        "criterion_text": "按判定标准第（十二）项认定的重大事故隐患",
    }
    _, _, team, finding_id = _recorded(w, major)
    body = {"kind": "suspend_production", "content": "责令储罐区暂时停产并撤出作业人员",
            "safety_not_ensured": True}  # fmt: skip
    res = w.client.post(f"/api/v1/findings/{finding_id}/measures", json=body, headers=team)
    assert res.status_code == 201, res.text
    return int(res.json()["id"]), team


def _on_order(w: World, tail: str, kwargs: dict[str, Any]) -> Call:
    order_id, ent, _ = _order(w)
    return Call("POST", f"/api/v1/rectifications/{order_id}/{tail}", kwargs, ent)


def _issue(w: World) -> Call:
    iid, _, team, _ = _recorded(w)
    return Call("POST", f"/api/v1/inspections/{iid}/rectification", {}, team)


def _reinspection(w: World) -> Call:
    iid, _, team, finding_id = _recorded(w)
    body = {"inspection_id": iid, "result": "passed", "note": "现场核实已整改"}
    return Call("POST", f"/api/v1/findings/{finding_id}/reinspection", {"json": body}, team)


INTERVIEW = {
    "kind": "interview",
    "content": "约谈企业主要负责人，督促落实培训制度",
    "meeting_at": "2099-01-10T09:30:00+08:00",
    "meeting_place": "昌吉州应急管理局三楼会议室",
    "meeting_attendee": "企业主要负责人 张某某（总经理）",
}


def _measure(w: World) -> Call:
    _, _, team, finding_id = _recorded(w)
    return Call("POST", f"/api/v1/findings/{finding_id}/measures", {"json": INTERVIEW}, team)


def _minutes(w: World) -> Call:
    _, _, team, finding_id = _recorded(w)
    res = w.client.post(f"/api/v1/findings/{finding_id}/measures", json=INTERVIEW, headers=team)
    assert res.status_code == 201, res.text
    body = {
        "held_at": utcnow().isoformat(),
        "attendees": "张某某（总经理）、李某（安全总监）",
        "minutes": "通报培训制度落实不到位的问题，企业表示十日内完成补训并报送培训档案",
    }
    return Call("POST", f"/api/v1/measures/{res.json()['id']}/minutes", {"json": body}, team)


def _refusal(w: World) -> Call:
    measure_id, team = _suspension(w)
    body = {"note": "企业负责人拒绝停产并继续作业"}
    return Call("POST", f"/api/v1/measures/{measure_id}/refusal", {"json": body}, team)


def _by_hand(w: World) -> dict[str, Any]:
    _officers(w)
    return {
        "credit_code": w.codes[5 + next(_hand) % 15],
        "source": "complaint",
        "reason": "12345 热线举报夜间违规动火",
        "planned_from": "2026-12-04",
        "planned_to": "2026-12-10",
        "staff": [
            {"officer_id": "ZF-001", "role": "leader"},
            {"officer_id": "ZF-002", "role": "member"},
        ],
    }


def _video_session(w: World) -> str:
    """An open video session (the site is asked over MQTT and never answers in this test)."""
    body = {"enterprise": w.codes[4], "purpose": "guidance"}
    session = w.ok("POST", "/api/v1/video/sessions", json=body)
    assert session["state"] == "requested"
    return str(session["id"])


TAG = {"kind": "analog", "unit": "%LEL", "description": "可燃气体", "h": 20, "hh": 50}
FINDING = {
    "item_code": "SP-TRAIN-01",
    "legal_basis": "安全生产法 第二十八条",
    "cause": "新员工未经安全教育上岗",
    "measure": "补充三级安全教育",
    "deadline": "2099-01-31",
    "severity": "minor",
}
ENTERPRISES_CSV = (
    "统一社会信用代码,企业名称,区县,行业,风险等级,信用等级\n"
    "{code},审计导入化工有限公司,上城区,hazchem_production,黄,B\n"
)

#: (METHOD, path) → a function that prepares the call and returns it.
SCENARIOS: dict[tuple[str, str], Callable[[World], Call]] = {
    ("POST", "/api/v1/enterprises"): lambda w: Call(
        "POST",
        "/api/v1/enterprises",
        {
            "json": {
                "credit_code": make_credit_code("330106", 901),
                "name": "审计测试化工有限公司",
                "county": "西湖区",
                "sector": "hazchem_production",
            }
        },
    ),
    ("POST", "/api/v1/enterprises/import"): lambda w: Call(
        "POST",
        "/api/v1/enterprises/import",
        {
            "files": {
                "file": (
                    "e.csv",
                    ENTERPRISES_CSV.format(code=make_credit_code("330106", 902)).encode(),
                    "text/csv",
                )
            }
        },
    ),
    ("PATCH", "/api/v1/enterprises/{ent}"): lambda w: Call(
        "PATCH", f"/api/v1/enterprises/{w.codes[0]}", {"json": {"address": "审计路 1 号"}}
    ),
    ("POST", "/api/v1/enterprises/{ent}/guidance"): lambda w: Call(
        "POST", f"/api/v1/enterprises/{w.codes[0]}/guidance", {"json": {"text": "请检查通风"}}
    ),
    ("PUT", "/api/v1/enterprises/{ent}/tags/{tag}"): lambda w: Call(
        "PUT", f"/api/v1/enterprises/{w.codes[1]}/tags/GT-101", {"json": TAG}
    ),
    ("DELETE", "/api/v1/enterprises/{ent}/tags/{tag}"): lambda w: (
        w.ok("PUT", f"/api/v1/enterprises/{w.codes[2]}/tags/GT-102", json=TAG),
        Call("DELETE", f"/api/v1/enterprises/{w.codes[2]}/tags/GT-102"),
    )[1],
    ("POST", "/api/v1/enterprises/{ent}/tags/import"): lambda w: Call(
        "POST",
        f"/api/v1/enterprises/{w.codes[1]}/tags/import",
        {"files": {"file": ("t.csv", b"tag,kind,unit,h\nGT-201,analog,%LEL,20\n", "text/csv")}},
    ),
    ("POST", "/api/v1/inspectors"): lambda w: Call(
        "POST",
        "/api/v1/inspectors",
        {
            "json": {
                "officer_id": "ZF-900",
                "name": "审计执法员",
                "department": "应急管理局",
                "county": "上城区",
                "certificate_no": "浙A-9000",
                "certificate_valid_from": "2024-01-01",
                "certificate_valid_to": "2029-12-31",
            }
        },
    ),
    ("POST", "/api/v1/inspectors/import"): lambda w: Call(
        "POST",
        "/api/v1/inspectors/import",
        {"files": {"file": ("o.csv", OFFICERS_CSV.encode(), "text/csv")}},
    ),
    ("POST", "/api/v1/plans"): lambda w: (
        _officers(w),
        Call(
            "POST",
            "/api/v1/plans",
            {
                "json": {
                    "plan_id": "AUD-NEW",
                    "title": "新计划",
                    "team": {"departments": ["应急管理局"]},
                    "strata": [{"ratio": "0.5"}],
                    "own_county_rule": False,
                }
            },
        ),
    )[1],
    ("POST", "/api/v1/plans/{plan_id}/draw"): lambda w: Call(
        "POST", f"/api/v1/plans/{_plan(w, 'AUD-DRAW')}/draw", {"json": {"period": PERIOD}}
    ),
    ("POST", "/api/v1/draws/{draw_id}/draw"): lambda w: Call(
        "POST", f"/api/v1/draws/{_frozen_draw(w)}/draw", {"json": {"public_value": "03 17 22"}}
    ),
    ("PATCH", "/api/v1/inspections/{inspection_id}"): lambda w: Call(
        "PATCH", f"/api/v1/inspections/{_inspection(w)}", {"json": {"status": "cancelled"}}
    ),
    ("POST", "/api/v1/inspections/{inspection_id}/findings"): lambda w: _as_team(
        w, "POST", "findings", {"json": FINDING}
    ),
    ("POST", "/api/v1/inspections/{inspection_id}/evidence"): lambda w: _as_team(
        w, "POST", "evidence", {"files": {"file": ("p.png", PNG, "image/png")}}
    ),
    ("POST", "/api/v1/findings/{finding_id}/decision"): lambda w: _on_finding(
        w, "decision", {"decision": "lenient", "reason": "企业主动消除危害后果，依法从轻"}
    ),
    ("POST", "/api/v1/findings/{finding_id}/statement"): lambda w: _on_finding(
        w, "statement", {"statement": "agree"}
    ),
    ("POST", "/api/v1/inspections/{inspection_id}/rectification"): _issue,
    ("POST", "/api/v1/rectifications/{order_id}/ack"): lambda w: _on_order(w, "ack", {}),
    ("POST", "/api/v1/rectifications/{order_id}/evidence"): lambda w: _on_order(
        w, "evidence", {"files": {"file": ("p.png", PNG, "image/png")}}
    ),
    ("POST", "/api/v1/rectifications/{order_id}/extensions"): lambda w: _on_order(
        w, "extensions", {"json": {"requested_deadline": "2099-03-01", "reason": "订货周期较长"}}
    ),
    ("POST", "/api/v1/rectification-extensions/{extension_id}/decide"): lambda w: Call(
        "POST",
        f"/api/v1/rectification-extensions/{_extension(w)}/decide",
        {"json": {"approve": True, "reason": "理由充分，同意延期"}},
    ),
    ("POST", "/api/v1/findings/{finding_id}/reinspection"): _reinspection,
    ("POST", "/api/v1/findings/{finding_id}/measures"): _measure,
    ("POST", "/api/v1/measures/{measure_id}/refusal"): _refusal,
    ("POST", "/api/v1/measures/{measure_id}/minutes"): _minutes,
    ("POST", "/api/v1/inspections"): lambda w: Call(
        "POST", "/api/v1/inspections", {"json": _by_hand(w)}
    ),
    ("PUT", "/api/v1/inspections/{inspection_id}/team"): lambda w: Call(
        "PUT",
        f"/api/v1/inspections/{w.ok('POST', '/api/v1/inspections', json=_by_hand(w))['id']}/team",
        {"json": {"staff": _by_hand(w)["staff"][::-1], "reason": "原检查组成员借调，调整检查组"}},
    ),
    ("POST", "/api/v1/restart-requests/{request_id}/approve"): lambda w: Call(
        "POST", f"/api/v1/restart-requests/{_restart_request(w)}/approve", {"json": {}}
    ),
    ("POST", "/api/v1/restart-requests/{request_id}/reject"): lambda w: Call(
        "POST",
        f"/api/v1/restart-requests/{_restart_request(w)}/reject",
        {"json": {"reason": "复验不合格"}},
    ),
    ("POST", "/api/v1/alarms/{alarm_id}/ack"): lambda w: Call(
        "POST", f"/api/v1/alarms/{_alarm(w)}/ack", {"json": {"note": "已知悉"}}
    ),
    ("POST", "/api/v1/alarms/{alarm_id}/close"): lambda w: Call(
        "POST",
        f"/api/v1/alarms/{_alarm(w)}/close",
        {"json": {"cause_category": "operator_error", "action_taken": "责令补做气体分析"}},
    ),
    ("POST", "/api/v1/users"): lambda w: Call(
        "POST",
        "/api/v1/users",
        {
            "json": {
                "username": "audit-new",
                "display_name": "新值班员",
                "password": "audit-password-123",
                "role": "duty",
            }
        },
    ),
    ("PATCH", "/api/v1/users/{user_id}"): lambda w: Call(
        "PATCH", f"/api/v1/users/{_user(w)}", {"json": {"display_name": "改名"}}
    ),
    ("DELETE", "/api/v1/users/{user_id}"): lambda w: Call("DELETE", f"/api/v1/users/{_user(w)}"),
    ("PUT", "/api/v1/users/{user_id}/officer"): _officer_link,
    ("POST", "/api/v1/video/sessions"): lambda w: Call(
        "POST", "/api/v1/video/sessions", {"json": {"enterprise": w.codes[3], "purpose": "other"}}
    ),
    ("POST", "/api/v1/video/sessions/{session_id}/hangup"): lambda w: Call(
        "POST", f"/api/v1/video/sessions/{_video_session(w)}/hangup", {"json": {"reason": "审计"}}
    ),
    ("POST", "/api/v1/enterprises/{ent}/reports"): _portal(
        "reports",
        {
            "event_id": "aud-1",
            "ts": "2026-03-01T08:00:00+08:00",
            "type": "trial_start",
            "trial_id": "T1",
        },
    ),
    ("POST", "/api/v1/enterprises/{ent}/commitments"): _portal(
        "commitments", {"date": "2026-03-01"}
    ),
    ("POST", "/api/v1/enterprises/{ent}/accounts"): lambda w: Call(
        "POST",
        f"/api/v1/enterprises/{w.codes[0]}/accounts",
        {"json": {"username": "audit-reporter", "password": "reporter-pass-1"}},
        _own_account(w),
    ),
    ("POST", "/api/v1/enterprises/{ent}/accounts/{user_id}/deactivate"): _reporter,
    ("POST", "/api/v1/enterprises/{ent}/permit-photos"): lambda w: Call(
        "POST",
        f"/api/v1/enterprises/{w.codes[0]}/permit-photos",
        {"files": {"file": ("p.png", PNG, "image/png")}, "data": {"permit_no": "DH-1"}},
        _own_account(w),
    ),
    ("PUT", "/api/v1/enterprises/{ent}/contacts"): lambda w: Call(
        "PUT",
        f"/api/v1/enterprises/{w.codes[0]}/contacts",
        {"json": {"contacts": [{"name": "张安全", "phone": "0994-0000000", "role": "安全负责人"}]}},
        _own_account(w),
    ),
    ("POST", "/api/v1/auth/password"): lambda w: Call(
        "POST",
        "/api/v1/auth/password",
        {"json": {"current_password": PASSWORD, "new_password": "a-new-password-1"}},
        _own_account(w, "duty"),
    ),
    ("POST", "/api/v1/enterprises/{ent}/acks"): _portal(
        "acks", {"ref": "G1", "ts": "2026-03-01T08:00:00+08:00"}
    ),
}


def state_changing_routes(client: TestClient) -> list[tuple[str, str]]:
    """(METHOD, path) of every POST/PUT/PATCH/DELETE operation in the OpenAPI schema."""
    spec = client.get("/openapi.json").json()
    return sorted(
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method in ops
        if method in STATE_CHANGING
    )


def _counts(db_url: str) -> tuple[int, int]:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT (SELECT coalesce(max(id), 0) FROM audit_log),"
            " (SELECT coalesce(max(id), 0) FROM live_changes)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _new_rows(db_url: str, audit_after: int, live_after: int) -> tuple[list[str], list[str]]:
    audits, lives = _new_rows_with_tx(db_url, audit_after, live_after)
    return [a for a, _ in audits], [k for k, _ in lives]


def _new_rows_with_tx(
    db_url: str, audit_after: int, live_after: int
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """New audit actions and live-change kinds, each with the transaction that wrote it."""
    with psycopg.connect(db_url) as conn:
        audits = conn.execute(
            "SELECT action, xmin::text FROM audit_log WHERE id > %s ORDER BY id", (audit_after,)
        ).fetchall()
        lives = conn.execute(
            "SELECT kind, xmin::text FROM live_changes WHERE id > %s ORDER BY id", (live_after,)
        ).fetchall()
    return [(str(a), str(x)) for a, x in audits], [(str(k), str(x)) for k, x in lives]


@pytest.fixture
def world(settings: Settings, db_url: str) -> Iterator[World]:
    with TestClient(create_app(settings)) as client:
        yield World(client, admin(client), db_url, settings, seed(db_url, 20))


def test_every_state_changing_route_is_covered_or_exempt(world: World) -> None:
    routes = state_changing_routes(world.client)
    missing = [r for r in routes if r not in SCENARIOS and r not in EXEMPT]
    assert not missing, f"state-changing routes without a scenario: {missing}\n{HOW_TO}"
    stale = sorted((set(SCENARIOS) | set(EXEMPT)) - set(routes))
    assert not stale, f"listed routes no longer in the schema, drop them: {stale}"
    assert not set(SCENARIOS) & set(EXEMPT)


def test_each_call_writes_one_audit_record_and_its_live_change(world: World) -> None:
    problems = []
    for key in state_changing_routes(world.client):
        scenario = SCENARIOS.get(key)
        if scenario is None:
            continue  # exempt, or reported by the coverage test above
        call = scenario(world)
        audit_before, live_before = _counts(world.db_url)
        headers = call.headers or world.h
        res = world.client.request(call.method, call.url, headers=headers, **call.kwargs)
        audits, lives = _new_rows_with_tx(world.db_url, audit_before, live_before)
        if res.status_code >= 300:
            problems.append(f"{key}: the scenario failed: {res.status_code} {res.text[:300]}")
        elif len(audits) != 1 or not lives:
            problems.append(f"{key}: wrote audit {audits} and live changes {lives}")
        elif audits[0][1] not in {tx for _, tx in lives}:
            problems.append(f"{key}: audit {audits} and live changes {lives} in other transactions")
    assert not problems, "\n".join(problems) + "\n" + HOW_TO


def test_a_refused_call_writes_neither(world: World) -> None:
    audit_before, live_before = _counts(world.db_url)
    res = world.client.post(f"/api/v1/restart-requests/{10**9}/approve", json={}, headers=world.h)
    assert res.status_code == 404
    assert _new_rows(world.db_url, audit_before, live_before) == ([], [])
