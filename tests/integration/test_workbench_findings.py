"""Findings over HTTP with the real database: 清单式执法 refusals in zh-CN, grading against the
sector's criteria, the advisor's recommendation, confirm/override, the enterprise's statement,
and the lapse of a provisional outcome that no 复查 verified (issue 15, slices b and c)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from config.settings import Settings
from domain.clock import utcnow
from services import findings as finding_service
from tests.integration.test_api_draws import _drawn
from tests.integration.test_workbench_teams import _audit, _first_inspection
from tests.integration.workbench_support import team_inspector

SOON = (utcnow().date() + timedelta(days=15)).isoformat()
MINOR = {
    "item_code": "SP-TRAIN-01",
    "legal_basis": "安全生产法 第二十八条",
    "cause": "新入职员工3人未经三级安全教育即上岗作业",
    "measure": "组织补训并考核合格后上岗，建立培训档案",
    "deadline": SOON,
    "severity": "minor",
    "harm": "none",
}
CRITERION = {"hazchem": "HC121-12", "industry_trade": "GM10-3-2"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def _sector(db_url: str, code: str) -> str:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT sector FROM enterprises WHERE credit_code = %s", (code,))
        return str(row.fetchone()[0])  # type: ignore[index]


def _major(sector: str) -> dict[str, Any]:
    body = MINOR | {
        "item_code": "HC-MAJOR-01" if sector.startswith("hazchem") else "GM-MAJOR-01",
        "legal_basis": "安全生产法 第一百一十八条",
        "cause": "可燃气体泄漏场所未设置检测报警装置，防爆电气失效",
        "measure": "立即设置检测报警装置并更换防爆电气设备",
        "severity": "major_hazard",
        "harm": "minor",
    }
    code = CRITERION.get("hazchem" if sector.startswith("hazchem") else sector)
    return body | (
        {"hazard_criterion": code}
        if code
        else {"criterion_text": "按行业判定标准第三条认定的重大事故隐患"}
    )


def test_findings_advice_override_statement_and_lapse(client: TestClient, db_url: str) -> None:
    _, drawn, _ = _drawn(client, db_url)
    iid, code = _first_inspection(db_url, drawn["id"])
    team = team_inspector(client, db_url, iid)
    url = f"/api/v1/inspections/{iid}/findings"

    refused = client.post(url, json=MINOR | {"measure": ""}, headers=team)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["measure"].startswith("必须填写整改措施")
    short = client.post(url, json=MINOR | {"cause": "没培训"}, headers=team)
    assert short.json()["error"]["details"]["cause"] == "原因太短：至少8个字，请写成完整的一句话"

    first = client.post(url, json=MINOR, headers=team)
    assert first.status_code == 201, first.text
    f1 = first.json()
    assert f1["recommendation"] == "no_penalty"
    assert f1["provisional"]
    assert f1["verify_by"] == SOON
    assert f1["penalty_basis"] == "安全生产法 第九十七条"
    assert f1["policy_version"].startswith("first_violation.yaml v1")
    texts = {c["rule"]: c["text"] for c in f1["advice"]}
    assert "第三十三条第一款第一句" in texts["result"]
    assert texts["no_harm"] == "没有造成危害后果"

    sector = _sector(db_url, code)
    major = _major(sector)
    without = {k: v for k, v in major.items() if k not in ("hazard_criterion", "criterion_text")}
    res = client.post(url, json=without, headers=team)
    assert res.status_code == 422
    assert "重大事故隐患" in res.json()["error"]["details"]["hazard_criterion"]
    res = client.post(url, json=major, headers=team)
    assert res.status_code == 201, res.text
    f2 = res.json()
    assert f2["recommendation"] == "case"
    assert any(c["text"] == "属于重大事故隐患：排除情形，应当立案" for c in f2["advice"])

    decision = f"/api/v1/findings/{f2['id']}/decision"
    res = client.post(
        decision, json={"decision": "no_penalty", "reason": "企业已承诺尽快整改完毕"}, headers=team
    )
    assert res.status_code == 409  # an exclusion is never overridden to 不予处罚
    res = client.post(decision, json={"decision": "lenient", "reason": "短"}, headers=team)
    assert res.status_code == 422
    assert "至少10个字" in res.json()["error"]["message"]
    reason = "企业主动停用相关装置并撤出人员，已减轻危害后果"
    res = client.post(decision, json={"decision": "lenient", "reason": reason}, headers=team)
    assert res.status_code == 200, res.text
    assert (res.json()["decision"], res.json()["decision_reason"]) == ("lenient", reason)
    [(who, after)] = _audit(db_url, "finding.override", f"finding:{f2['id']}")
    assert after["override"] is True
    assert who.startswith("wb_")
    ok = client.post(
        f"/api/v1/findings/{f1['id']}/decision", json={"decision": "no_penalty"}, headers=team
    )
    assert ok.status_code == 200
    assert _audit(db_url, "finding.confirm", f"finding:{f1['id']}")

    statement = f"/api/v1/findings/{f2['id']}/statement"
    res = client.post(statement, json={"statement": "object"}, headers=team)
    assert res.status_code == 422  # an objection is written down
    body = {"statement": "object", "note": "企业认为该装置已停用，不应认定为重大事故隐患"}
    res = client.post(statement, json=body, headers=team)
    assert res.status_code == 200
    assert res.json()["statement"] == "object"

    # the deadline passes and no 复查 verified the rectification: the 不予处罚 lapses
    verify_by = date.fromisoformat(SOON)

    async def sweep(today: date) -> list[int]:
        async with await psycopg.AsyncConnection.connect(db_url) as conn:
            done = await finding_service.lapse_due(conn, today=today, now=datetime.now(UTC))
            await conn.commit()
            return done

    assert asyncio.run(sweep(verify_by)) == []  # on the deadline day it still stands
    assert asyncio.run(sweep(verify_by + timedelta(days=1))) == [f1["id"]]
    assert asyncio.run(sweep(verify_by + timedelta(days=2))) == []  # once
    lapsed = client.get(f"/api/v1/findings/{f1['id']}", headers=team).json()
    assert (lapsed["recommendation"], lapsed["provisional"], lapsed["decision"]) == (
        "case",
        False,
        None,
    )
    assert "未经复查确认整改完成" in lapsed["advice"][-1]["text"]
    [(actor, _)] = _audit(db_url, "finding.lapse", f"finding:{f1['id']}")
    assert actor == "system"
    with psycopg.connect(db_url) as conn:
        told = conn.execute(
            "SELECT count(*) FROM live_changes WHERE kind = 'supervisor_notice'"
        ).fetchone()
    assert told is not None
    assert told[0] == 1
    # a lapsed finding cannot be decided 不予处罚 again
    res = client.post(
        f"/api/v1/findings/{f1['id']}/decision",
        json={"decision": "no_penalty", "reason": "企业称已整改但未申请复查"},
        headers=team,
    )
    assert res.status_code == 409
