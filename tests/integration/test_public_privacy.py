"""Public output is built from allow-lists: personal data seeded everywhere never appears.

Every GET route under /public (enumerated from the running app, so a new one is scanned at
once), the public page, and the published draw and its document are read after personal data
was planted in every field that can hold it: enterprise contacts and phone numbers, ID numbers,
officers' conflict declarations, plan exclusion notes ("涉嫌刑事案件"), findings, penalties.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from api.routes.protocol import SCHEMA_DIR
from tests.integration.apiclient import seed
from tests.integration.conftest import bearer
from tests.integration.liveserver import ServerThread
from tests.integration.test_api_draws import OFFICERS_CSV, PERIOD
from tests.integration.workbench_support import team_inspector

MOBILE = "13912345678"
ID_NUMBER = "65230119800101123X"
CONTACT = "隐私联系人甲"
CASE_NOTE = "涉嫌刑事案件"
FINDING_NOTE = "证人乙"
#: Strings that must never leave through a public route.
SECRETS = (MOBILE, ID_NUMBER, CONTACT, CASE_NOTE, FINDING_NOTE)
PERSONAL = f"{CONTACT} 手机{MOBILE} 身份证{ID_NUMBER}"


def _plant(db_url: str, codes: list[str]) -> None:
    contacts = json.dumps([{"name": CONTACT, "phone": MOBILE, "role": ID_NUMBER}])
    with psycopg.connect(db_url) as conn:
        conn.execute("UPDATE enterprises SET contacts = %s::jsonb", (contacts,))
        conn.execute(
            "INSERT INTO officer_conflicts (officer_id, credit_code, reason)"
            " SELECT officer_id, %s, %s FROM officers",
            (codes[0], f"{CASE_NOTE} {PERSONAL}"),
        )
        conn.execute("UPDATE users SET display_name = %s", (PERSONAL,))


SCHEMAS = sorted(SCHEMA_DIR.glob("*.schema.json"))


def _scan_targets(app_routes: list[str], draw_id: int) -> list[str]:
    out = []
    for path in app_routes:
        path = re.sub(r"\{draw_id[^}]*\}", str(draw_id), path)
        if "{name}" in path:  # the protocol's JSON Schemas: every one of them
            out += [path.replace("{name}", f.name.split(".")[0]) for f in SCHEMAS]
            continue
        assert "{" not in path, f"a public route with a parameter the scan does not fill: {path}"
        out.append(path)
    return out


@pytest.fixture
def planted(live_server: ServerThread, db_url: str) -> Iterator[tuple[httpx.Client, list[str]]]:
    """Personal data planted everywhere, a drawn plan, a finding; the public URLs to scan."""
    codes = seed(db_url, 20)
    h = bearer(live_server)
    with httpx.Client(base_url=live_server.url, timeout=60) as c:
        files = {"file": ("o.csv", OFFICERS_CSV.encode(), "text/csv")}
        assert c.post("/api/v1/inspectors/import", files=files, headers=h).status_code == 200
        _plant(db_url, codes)
        plan = {
            "plan_id": "PRIV-1",
            "title": "隐私扫描",
            "team": {"departments": ["应急管理局"]},
            "strata": [{"ratio": "0.5"}],
            "own_county_rule": False,
            "exclusions": {
                "enterprises": [
                    {
                        "code": codes[1],
                        "reason": "under_investigation",
                        "note": PERSONAL + CASE_NOTE,
                    }
                ]
            },
        }
        res = c.post("/api/v1/plans", json=plan, headers=h)
        assert res.status_code == 201, res.text
        drawn = c.post("/api/v1/plans/PRIV-1/draw", json={"period": PERIOD}, headers=h)
        assert drawn.status_code == 200, drawn.text
        draw_id = int(drawn.json()["id"])
        with psycopg.connect(db_url) as conn:
            row = conn.execute(
                "SELECT id FROM inspections WHERE draw_id = %s ORDER BY id LIMIT 1", (draw_id,)
            ).fetchone()
        assert row is not None
        finding = {
            "item_code": "SP-TRAIN-01",
            "legal_basis": "安全生产法 第二十八条",
            "cause": f"{FINDING_NOTE}称 {PERSONAL}",
            "measure": f"联系 {MOBILE}",
            "deadline": "2099-01-31",
            "severity": "minor",
        }
        team = team_inspector(c, db_url, row[0])  # only the team records (issue 15)
        res = c.post(f"/api/v1/inspections/{row[0]}/findings", json=finding, headers=team)
        assert res.status_code == 201, res.text
        done = {"status": "done", "inspected_on": "2026-12-02"}
        res = c.patch(f"/api/v1/inspections/{row[0]}", json=done, headers=team)
        assert res.status_code == 200, res.text
        # the staff view does hold the planted data, so the scan can find it if it leaks
        assert MOBILE in c.get(f"/api/v1/enterprises/{codes[0]}", headers=h).text
        paths = c.get("/openapi.json").json()["paths"]
        public = [p for p, ops in paths.items() if p.startswith("/public") and "get" in ops]
        targets = [
            *_scan_targets(public, draw_id),
            "/public/",
            f"/public/v1/results?draw_id={draw_id}",
        ]
        assert any("/draws/{" not in t and "/draws/" in t for t in targets)  # draw routes included
        yield c, targets


def _leaks(c: httpx.Client, targets: list[str]) -> list[str]:
    leaks: list[str] = []
    for path in targets:
        res = c.get(path)
        assert res.status_code == 200, (path, res.status_code, res.text[:200])
        body = res.content.decode("utf-8", "replace")
        leaks += [f"{path}: {s}" for s in SECRETS if s in body]
    return leaks


@pytest.mark.slow
def test_no_public_route_publishes_personal_data(
    planted: tuple[httpx.Client, list[str]],
) -> None:
    c, targets = planted
    assert any(t.endswith("/document") for t in targets)  # the draw document is scanned too
    leaks = _leaks(c, targets)
    assert not leaks, "\n".join(leaks)
