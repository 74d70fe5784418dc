"""Helpers for HTTP tests: sign in, create accounts, load directory rows."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi.testclient import TestClient

from api.security import hash_password
from demo.data import demo_enterprises
from demo.directory import demo_items
from tests.conftest import TEST_ADMIN_PASSWORD

Headers = dict[str, str]
PASSWORD = "role-password-1234"
_HASH = hash_password(PASSWORD)


def login(client: TestClient, username: str, password: str) -> Headers:
    """Bearer headers for the account."""
    res = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


def admin(client: TestClient) -> Headers:
    """Bearer headers for the test admin."""
    return login(client, "admin", TEST_ADMIN_PASSWORD)


def seed(db_url: str, count: int = 6) -> list[str]:
    """Insert `count` demo enterprises and the demo inspection-item list (抽查事项清单, which a
    draw gives its inspections); return the credit codes."""
    rows = demo_enterprises(count)
    with psycopg.connect(db_url) as conn:
        conn.cursor().executemany(
            "INSERT INTO inspection_items (item_id, item, sub_item, legal_basis, sectors, method,"
            " checklist_codes) VALUES (%(item_id)s, %(item)s, %(sub_item)s, %(legal_basis)s,"
            " %(sectors)s, %(method)s, %(checklist_codes)s) ON CONFLICT DO NOTHING",
            [
                {
                    "item_id": i.item_id,
                    "item": i.item,
                    "sub_item": i.sub_item,
                    "legal_basis": i.legal_basis,
                    "sectors": list(i.sectors),
                    "method": i.method.value,
                    "checklist_codes": list(i.checklist_codes),
                }
                for i in demo_items()
            ],
        )
        conn.cursor().executemany(
            "INSERT INTO enterprises (credit_code, name, county, address, sector, risk_colour,"
            " credit_class, high_risk) VALUES (%(credit_code)s, %(name)s, %(county)s,"
            " %(address)s, %(sector)s, %(risk_colour)s, %(credit_class)s, %(high_risk)s)"
            " ON CONFLICT DO NOTHING",
            [
                {
                    "credit_code": r.credit_code,
                    "name": r.name,
                    "county": r.county,
                    "address": r.address,
                    "sector": r.sector,
                    "risk_colour": r.risk_colour,
                    "credit_class": r.credit_class,
                    "high_risk": r.high_risk,
                }
                for r in rows
            ],
        )
    return [r.credit_code for r in rows]


def add_user(db_url: str, username: str, role: str, enterprise_id: str | None = None) -> None:
    """Create an account directly in the database (password PASSWORD)."""
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO users (username, password_hash, role, enterprise_id)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (username) DO NOTHING",
            (username, _HASH, role, enterprise_id),
        )


def role_headers(client: TestClient, db_url: str, enterprise_id: str) -> dict[str, Headers]:
    """Headers for one account of each role (the enterprise one bound to `enterprise_id`)."""
    out: dict[str, Headers] = {"admin": admin(client)}
    for role in ("supervisor", "duty", "inspector", "enterprise"):
        add_user(db_url, f"t_{role}", role, enterprise_id if role == "enterprise" else None)
        out[role] = login(client, f"t_{role}", PASSWORD)
    return out


def error_code(res: Any) -> str:
    """The `error.code` of an error response."""
    body = res.json()
    assert set(body) == {"error"}, body
    return str(body["error"]["code"])
