"""The RBAC matrix's id-guessing pass: an enterprise account tries the ids of another
enterprise's records on every `{id}` route and is refused (403/404) without seeing them.

Records of other enterprises are made through the real pipelines (a draw's inspections and a
finding, restart requests and alarms through the services, an ended video session with a
recording), then every route of the app whose path has an id parameter is called with each
of those ids by an account bound to a different enterprise.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from config.settings import Settings
from tests.integration.apiclient import PASSWORD, add_user, admin, login, seed
from tests.integration.test_audit_invariant import (
    FINDING,
    INTERVIEW,
    PNG,
    World,
    _alarm,
    _inspection,
    _restart_request,
)
from tests.integration.test_rbac_matrix import endpoints
from tests.integration.workbench_support import team_inspector

#: Path parameter → the table and enterprise column whose ids it takes.
RECORDS = {
    "alarm_id": ("alarms", "enterprise_id"),
    "inspection_id": ("inspections", "credit_code"),
    "request_id": ("restart_requests", "enterprise_id"),
    "session_id": ("video_sessions", "enterprise_id"),
    "evidence_id": ("evidence_files", "enterprise_id"),
    "finding_id": ("findings", "enterprise_id"),
    "order_id": ("rectification_orders", "enterprise_id"),
    "measure_id": ("enforcement_measures", "enterprise_id"),
}
ID_PARAM = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")
FOREIGN_IDS = "SELECT id::text, {col} FROM {table} WHERE {col} <> %s"  # names from RECORDS only


def _ids(db_url: str, own: str) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    with psycopg.connect(db_url) as conn:
        for param, (table, col) in RECORDS.items():
            query = psycopg.sql.SQL(FOREIGN_IDS).format(
                col=psycopg.sql.Identifier(col), table=psycopg.sql.Identifier(table)
            )
            out[param] = [(r[0], r[1]) for r in conn.execute(query, (own,)).fetchall()]
    return out


def _video_session(db_url: str, ent: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO video_sessions (id, enterprise_id, requested_by, purpose, state,"
            " recording_path, recording_bytes, ended_at) VALUES"
            " ('guess-1', %s, 'duty', 'alarm', 'ended', 'rec/guess-1.webm', 10, now())",
            (ent,),
        )


@pytest.mark.slow
def test_enterprise_account_cannot_reach_other_enterprises_records_by_id(
    settings: Settings, db_url: str
) -> None:
    with TestClient(create_app(settings)) as client:
        codes = seed(db_url, 20)
        w = World(client, admin(client), db_url, settings, codes)
        inspection = _inspection(w)
        as_team = team_inspector(client, db_url, inspection)
        res = client.post(
            f"/api/v1/inspections/{inspection}/findings", json=FINDING, headers=as_team
        )
        assert res.status_code == 201, res.text
        res = client.post(f"/api/v1/inspections/{inspection}/rectification", headers=as_team)
        assert res.status_code == 201, res.text
        finding = client.get(f"/api/v1/inspections/{inspection}", headers=as_team).json()
        for body in (INTERVIEW, {"kind": "warning", "content": "予以行政告诫，限期补训并报送档案"}):
            res = client.post(
                f"/api/v1/findings/{finding['findings'][0]['id']}/measures",
                json=body,
                headers=as_team,
            )
            assert res.status_code == 201, res.text
        photo = {"file": ("p.png", PNG, "image/png")}
        res = client.post(
            f"/api/v1/inspections/{inspection}/evidence", files=photo, headers=as_team
        )
        assert res.status_code == 201, res.text
        for _ in range(3):
            _restart_request(w)
        alarm = _alarm(w)  # always for codes[0]
        with psycopg.connect(db_url) as conn:
            row = conn.execute("SELECT credit_code FROM inspections WHERE id = %s", (inspection,))
            inspected = row.fetchone()[0]  # type: ignore[index]
        own = next(c for c in codes if c not in (codes[0], inspected))
        _video_session(db_url, codes[0])
        add_user(db_url, "guesser", "enterprise", own)
        h = login(client, "guesser", PASSWORD)
        foreign = _ids(db_url, own)
        assert all(foreign.values()), foreign  # every kind of record exists elsewhere
        # the same account does reach its own enterprise's alarm list: refusals below are real
        assert client.get("/api/v1/alarms", headers=h).status_code == 200
        assert client.get(f"/api/v1/alarms/{alarm}", headers=admin(client)).status_code == 200

        app: FastAPI = client.app  # type: ignore[assignment]
        problems: list[str] = []
        tried = 0
        for ep in endpoints(app):
            params = ID_PARAM.findall(ep.path)
            kinds = [p for p in params if p in RECORDS]
            if not kinds:
                continue
            for record_id, owner in foreign[kinds[0]]:
                url = ep.path.replace("{" + kinds[0] + "}", record_id)
                url = ID_PARAM.sub("x1", url)  # any other parameter (e.g. a viewer id)
                kwargs: dict[str, Any] = {"headers": h}
                if ep.method in {"POST", "PATCH", "PUT"}:
                    kwargs["json"] = FINDING if ep.path.endswith("/findings") else {}
                res = client.request(ep.method, url, **kwargs)
                tried += 1
                if res.status_code not in (403, 404):
                    problems.append(f"{ep.method} {url} → {res.status_code}")
                elif owner in res.text or "cause" in res.text:
                    problems.append(f"{ep.method} {url} → refused but shows the record")
        assert tried >= 10
        assert not problems, "\n".join(problems)
