"""`safewatch demo` seeds the Changji deployment: its bureau, counties, zones and sectors."""

from __future__ import annotations

from collections import Counter

from fastapi.testclient import TestClient

import safewatch
from api.app import create_app
from config.policy import load_policies
from config.settings import Settings
from domain.credit_code import validate_credit_code
from tests.integration.apiclient import admin

COUNTIES = {
    "昌吉市",
    "阜康市",
    "呼图壁县",
    "玛纳斯县",
    "奇台县",
    "吉木萨尔县",
    "木垒哈萨克自治县",
    "准东经济技术开发区",
    "昌吉高新技术产业开发区",
    "昌吉国家农业科技园区",
}


async def test_demo_seed_shows_changji_enterprises(settings: Settings) -> None:
    policies = load_policies(settings.policy_dir)
    await safewatch._seed_demo(settings, policies.region)
    with TestClient(create_app(settings, policies=policies)) as client:
        region = client.get("/public/v1/region").json()
        assert region["bureau"] == "昌吉回族自治州应急管理局"
        assert {c["name"] for c in region["counties"]} == COUNTIES
        h = admin(client)
        page = client.get("/api/v1/enterprises", params={"limit": 500}, headers=h).json()
    items = page["items"]
    assert len(items) == 120
    assert {e["county"] for e in items} == COUNTIES
    for e in items:
        validate_credit_code(e["credit_code"])
        assert e["credit_code"][2:6] == "6523", e["credit_code"]
        assert e["address"].startswith("新疆维吾尔自治区昌吉回族自治州" + e["county"])
    sectors = Counter(e["sector"] for e in items)
    assert set(sectors) <= {s["code"] for s in region["sectors"]}
    # The region's economy: coal chemicals, power, quarries, hazardous chemicals and 工贸.
    assert {"coal_chemical", "power", "non_coal_mine", "industry_trade"} <= set(sectors)
    assert sum(n for s, n in sectors.items() if s.startswith("hazchem")) >= 15
    zhundong = [e["sector"] for e in items if e["county"] == "准东经济技术开发区"]
    assert sum(s in {"coal_chemical", "power", "hazchem_production"} for s in zhundong) >= 8
