"""Every role against every endpoint of the app: exactly the allowed roles get through.

Endpoints are enumerated from the running app, so a new route is covered at once: every
route outside /public, /healthz and /metrics refuses anonymous callers, no role ever gets a
5xx, and an enterprise account never reaches another enterprise. Routes listed in POLICY
additionally get the exact role matrix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from config.settings import Settings
from tests.integration.apiclient import role_headers, seed

STAFF = frozenset({"admin", "supervisor", "duty", "inspector"})
EVERYONE = STAFF | {"enterprise"}
ADMIN = frozenset({"admin"})
EDITORS = frozenset({"admin", "supervisor"})
RECORDERS = frozenset({"admin", "supervisor", "inspector"})
INSPECTORS = frozenset({"inspector"})
ENTERPRISE = frozenset({"enterprise"})
HANDLERS = frozenset({"admin", "supervisor", "duty"})
PUBLIC = "public"

#: (method, path) → roles that may call it (enterprise accounts only for their own `{ent}`).
POLICY: dict[tuple[str, str], frozenset[str] | str] = {
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("POST", "/api/v1/auth/refresh"): EVERYONE,
    ("GET", "/api/v1/auth/me"): EVERYONE,
    ("GET", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users"): ADMIN,
    ("GET", "/api/v1/users/{user_id}"): ADMIN,
    ("PATCH", "/api/v1/users/{user_id}"): ADMIN,
    ("DELETE", "/api/v1/users/{user_id}"): ADMIN,
    ("PUT", "/api/v1/users/{user_id}/officer"): ADMIN,
    ("GET", "/api/v1/audit"): ADMIN,
    ("GET", "/api/v1/enterprises"): EVERYONE,
    ("POST", "/api/v1/enterprises"): EDITORS,
    ("POST", "/api/v1/enterprises/import"): EDITORS,
    ("GET", "/api/v1/enterprises/{ent}"): EVERYONE,
    ("PATCH", "/api/v1/enterprises/{ent}"): EDITORS,
    ("GET", "/api/v1/dashboard/board"): EVERYONE,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/api/v1/inspectors"): STAFF,
    ("POST", "/api/v1/inspectors"): EDITORS,
    ("GET", "/api/v1/inspectors/{officer_id}"): STAFF,
    ("POST", "/api/v1/inspectors/import"): EDITORS,
    ("GET", "/api/v1/plans"): STAFF,
    ("POST", "/api/v1/plans"): EDITORS,
    ("GET", "/api/v1/plans/{plan_id}"): STAFF,
    ("POST", "/api/v1/plans/{plan_id}/draw"): EDITORS,
    ("GET", "/api/v1/draws"): STAFF,
    ("GET", "/api/v1/draws/{draw_id}"): STAFF,
    ("POST", "/api/v1/draws/{draw_id}/draw"): EDITORS,
    ("GET", "/api/v1/draws/{draw_id}/document"): STAFF,
    ("GET", "/api/v1/draws/{draw_id}/lists"): STAFF,
    ("GET", "/api/v1/checklist"): EVERYONE,
    ("GET", "/api/v1/inspections/{inspection_id}"): EVERYONE,
    ("PATCH", "/api/v1/inspections/{inspection_id}"): RECORDERS,
    ("POST", "/api/v1/inspections/{inspection_id}/findings"): INSPECTORS,
    # the inspector's workbench (issue 15): supervisors assign, the team's officers record
    ("POST", "/api/v1/inspections"): EDITORS,
    ("PUT", "/api/v1/inspections/{inspection_id}/team"): EDITORS,
    ("POST", "/api/v1/inspections/{inspection_id}/evidence"): INSPECTORS,
    ("GET", "/api/v1/inspections/{inspection_id}/evidence"): EVERYONE,
    ("GET", "/api/v1/evidence/{evidence_id}"): EVERYONE,
    ("GET", "/api/v1/findings/{finding_id}"): EVERYONE,
    ("POST", "/api/v1/findings/{finding_id}/decision"): INSPECTORS,
    ("POST", "/api/v1/findings/{finding_id}/statement"): INSPECTORS,
    # the rectification loop: the team orders and re-inspects, the enterprise acknowledges,
    # uploads evidence and asks for extensions, a supervisor decides them
    ("POST", "/api/v1/inspections/{inspection_id}/rectification"): INSPECTORS,
    ("GET", "/api/v1/rectifications"): EVERYONE,
    ("GET", "/api/v1/rectifications/{order_id}"): EVERYONE,
    ("POST", "/api/v1/rectifications/{order_id}/ack"): ENTERPRISE,
    ("POST", "/api/v1/rectifications/{order_id}/evidence"): ENTERPRISE,
    ("POST", "/api/v1/rectifications/{order_id}/extensions"): ENTERPRISE,
    ("POST", "/api/v1/rectification-extensions/{extension_id}/decide"): EDITORS,
    # the supervisors' pages: the extension queue and the yearly cap before a hand-made inspection
    ("GET", "/api/v1/rectification-extensions"): EDITORS,
    ("GET", "/api/v1/enterprises/{ent}/inspection-cap"): EDITORS,
    ("POST", "/api/v1/findings/{finding_id}/reinspection"): INSPECTORS,
    ("POST", "/api/v1/findings/{finding_id}/measures"): INSPECTORS,
    ("GET", "/api/v1/findings/{finding_id}/measures"): EVERYONE,
    ("POST", "/api/v1/measures/{measure_id}/refusal"): INSPECTORS,
    ("GET", "/api/v1/inspections/{inspection_id}/documents/{kind}"): EVERYONE,
    ("GET", "/api/v1/enforcement/statistics"): EDITORS,
    ("GET", "/api/v1/my/inspections"): INSPECTORS,
    ("GET", "/api/v1/enforcement/overrides"): EDITORS,
    ("GET", "/api/v1/findings/{finding_id}/documents/no_penalty_decision"): EVERYONE,
    # the flexible instruments' documents: supervisors, the team, the enterprise addressed
    ("GET", "/api/v1/measures/{measure_id}/documents/{document}"): frozenset(
        {"admin", "supervisor", "inspector", "enterprise"}
    ),
    ("POST", "/api/v1/measures/{measure_id}/minutes"): INSPECTORS,
    ("GET", "/public/v1/draws"): PUBLIC,
    ("GET", "/public/v1/draws/{draw_id}"): PUBLIC,
    ("GET", "/public/v1/draws/{draw_id}/document"): PUBLIC,
    ("GET", "/public/v1/results"): PUBLIC,
    ("GET", "/public/v1/penalties"): PUBLIC,
    ("GET", "/public/v1/verifier.py"): PUBLIC,
    # the site protocol's JSON Schemas (issue 17), for device vendors
    ("GET", "/public/v1/protocol/schemas"): PUBLIC,
    ("GET", "/public/v1/protocol/schemas/{name}"): PUBLIC,
    # monitoring (issue 4): handling is for duty staff and their superiors
    ("GET", "/api/v1/alarms"): EVERYONE,
    ("GET", "/api/v1/alarms/causes"): EVERYONE,
    ("GET", "/api/v1/alarms/rules"): EVERYONE,
    ("GET", "/api/v1/alarms/{alarm_id}"): EVERYONE,
    ("POST", "/api/v1/alarms/{alarm_id}/ack"): HANDLERS,
    ("POST", "/api/v1/alarms/{alarm_id}/close"): HANDLERS,
    ("GET", "/api/v1/restart-requests"): EVERYONE,
    ("POST", "/api/v1/restart-requests/{request_id}/approve"): HANDLERS,
    ("POST", "/api/v1/restart-requests/{request_id}/reject"): HANDLERS,
    ("GET", "/api/v1/enterprises/{ent}/status"): EVERYONE,
    ("GET", "/api/v1/enterprises/{ent}/events"): EVERYONE,
    ("GET", "/api/v1/enterprises/{ent}/telemetry"): EVERYONE,
    ("GET", "/api/v1/enterprises/{ent}/guidance"): EVERYONE,
    ("POST", "/api/v1/enterprises/{ent}/guidance"): HANDLERS,
    ("GET", "/api/v1/enterprises/{ent}/commitments"): EVERYONE,
    ("GET", "/api/v1/enterprises/{ent}/tags"): EVERYONE,
    ("PUT", "/api/v1/enterprises/{ent}/tags/{tag}"): HANDLERS,
    ("DELETE", "/api/v1/enterprises/{ent}/tags/{tag}"): HANDLERS,
    ("POST", "/api/v1/enterprises/{ent}/tags/import"): HANDLERS,
    ("GET", "/api/v1/status/summary"): STAFF,
    # the enterprise portal (issue 16): only the enterprise itself reports
    ("POST", "/api/v1/enterprises/{ent}/reports"): frozenset({"enterprise"}),
    ("POST", "/api/v1/enterprises/{ent}/commitments"): frozenset({"enterprise"}),
    ("POST", "/api/v1/enterprises/{ent}/acks"): frozenset({"enterprise"}),
    ("GET", "/api/v1/enterprises/{ent}/reports"): EVERYONE,
    ("GET", "/api/v1/enterprises/{ent}/reports/{report_id}"): EVERYONE,
    ("GET", "/api/v1/enterprises/{ent}/licences"): EVERYONE,
    ("GET", "/api/v1/licences/expiring"): STAFF,
    ("GET", "/api/v1/enterprises/{ent}/accounts"): EVERYONE,
    ("POST", "/api/v1/enterprises/{ent}/accounts"): frozenset({"enterprise"}),
    ("POST", "/api/v1/enterprises/{ent}/accounts/{user_id}/deactivate"): frozenset({"enterprise"}),
    ("GET", "/api/v1/enterprises/{ent}/contacts"): EVERYONE,
    ("PUT", "/api/v1/enterprises/{ent}/contacts"): frozenset({"enterprise"}),
    ("POST", "/api/v1/auth/password"): EVERYONE,
    ("POST", "/api/v1/enterprises/{ent}/permit-photos"): frozenset({"enterprise"}),
    ("GET", "/api/v1/enterprises/{ent}/video/requests"): frozenset({"enterprise"}),
    ("POST", "/api/v1/video/sessions/{session_id}/phone-offer"): frozenset({"enterprise"}),
    ("POST", "/api/v1/video/sessions"): STAFF,
    ("GET", "/api/v1/video/sessions"): STAFF,
    ("GET", "/api/v1/video/sessions/{session_id}"): STAFF,
    ("POST", "/api/v1/video/sessions/{session_id}/viewer"): STAFF,
    ("POST", "/api/v1/video/sessions/{session_id}/hangup"): STAFF,
    ("GET", "/api/v1/video/sessions/{session_id}/recording"): frozenset(
        {"admin", "supervisor", "duty"}
    ),
}
OPEN_PREFIXES = ("/public/", "/healthz", "/metrics", "/api/v1/auth/token")
PARAM = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")


@dataclass(frozen=True)
class Endpoint:
    """One method of one documented route."""

    method: str
    path: str
    multipart: bool


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every HTTP endpoint of the app (walking included routers), schema routes only."""

    def walk(routes: list[Any]) -> Iterator[Any]:
        for route in routes:
            if hasattr(route, "effective_route_contexts"):
                yield from route.effective_route_contexts()
            elif hasattr(route, "routes") and not hasattr(route, "methods"):
                yield from walk(route.routes)
            else:
                yield route

    found = []
    for route in walk(app.routes):
        methods = getattr(route, "methods", None)
        path = getattr(route, "path", None) or getattr(route, "path_format", None)
        if not methods or not path or not getattr(route, "include_in_schema", False):
            continue
        body = getattr(route, "body_field", None)
        multipart = body is not None and "UploadFile" in repr(getattr(body, "type_", ""))
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            found.append(Endpoint(method, path, multipart or path.endswith("/import")))
    return found


def _url(path: str, ent: str) -> str:
    def fill(match: re.Match[str]) -> str:
        return ent if match.group(1) == "ent" else "999999"

    return PARAM.sub(fill, path)


def _call(client: TestClient, ep: Endpoint, url: str, headers: dict[str, str]) -> int:
    kwargs: dict[str, Any] = {"headers": headers}
    if ep.method in {"POST", "PATCH", "PUT"} and not ep.multipart:
        kwargs["json"] = {}
    return client.request(ep.method, url, **kwargs).status_code


@pytest.fixture
def world(settings: Settings, db_url: str) -> Iterator[tuple[TestClient, dict[str, Any], str, str]]:
    with TestClient(create_app(settings)) as client:
        own, other, *_ = seed(db_url, 3)
        yield client, role_headers(client, db_url, own), own, other


def test_every_role_against_every_endpoint(
    world: tuple[TestClient, dict[str, Any], str, str],
) -> None:
    client, headers, own, other = world
    app: FastAPI = client.app  # type: ignore[assignment]
    eps = endpoints(app)
    assert len(eps) >= len([k for k in POLICY if not k[1].startswith("/api/v1/video")])
    problems: list[str] = []
    for ep in eps:
        key = (ep.method, ep.path)
        policy = POLICY.get(key)
        open_route = policy == PUBLIC or ep.path.startswith(OPEN_PREFIXES)
        anon = _call(client, ep, _url(ep.path, own), {})
        if anon >= 500:
            problems.append(f"{key} anonymous → {anon}")
        if not open_route and anon != 401:
            problems.append(f"{key} anonymous → {anon}, expected 401 (deny by default)")
        for role, h in headers.items():
            status = _call(client, ep, _url(ep.path, own), h)
            if status >= 500:
                problems.append(f"{key} {role} → {status}")
            if isinstance(policy, frozenset):
                allowed = role in policy
                if allowed and status in (401, 403):
                    problems.append(f"{key} {role} → {status}, expected to be let through")
                if not allowed and status != 403:
                    problems.append(f"{key} {role} → {status}, expected 403")
        if "{ent}" in ep.path:
            status = _call(client, ep, _url(ep.path, other), headers["enterprise"])
            if status not in (403, 404):
                problems.append(f"{key} enterprise on another enterprise → {status}")
    assert not problems, "\n".join(problems)


def test_enterprise_account_never_sees_another_enterprise_in_any_list(
    world: tuple[TestClient, dict[str, Any], str, str],
) -> None:
    client, headers, own, other = world
    app: FastAPI = client.app  # type: ignore[assignment]
    leaks = []
    for ep in endpoints(app):
        if ep.method != "GET" or "{" in ep.path or ep.path.startswith(OPEN_PREFIXES):
            continue
        for params in ({}, {"ent": other}, {"enterprise_id": other}, {"q": other[:10]}):
            res = client.get(ep.path, params=params, headers=headers["enterprise"])
            if res.status_code < 300 and other in res.text:
                leaks.append(f"GET {ep.path} {params} shows {other}")
    assert not leaks, "\n".join(leaks)
    own_row = client.get(f"/api/v1/enterprises/{own}", headers=headers["enterprise"])
    assert own_row.status_code == 200


def test_enterprise_account_cannot_change_any_enterprise_or_account(
    world: tuple[TestClient, dict[str, Any], str, str],
) -> None:
    client, headers, own, other = world
    h = headers["enterprise"]
    for code in (own, other):
        res = client.patch(f"/api/v1/enterprises/{code}", json={"name": "改名"}, headers=h)
        assert res.status_code == 403
    body = {"credit_code": other, "name": "x", "county": "y", "sector": "z"}
    assert client.post("/api/v1/enterprises", json=body, headers=h).status_code == 403
    res = client.post(
        "/api/v1/users",
        json={"username": "evil", "password": "p" * 12, "role": "admin"},
        headers=h,
    )
    assert res.status_code == 403
