"""Helpers for the workbench tests: an inspector account linked to a team officer."""

from __future__ import annotations

import httpx
import psycopg

from tests.integration.apiclient import PASSWORD, Headers, add_user


def team_of(db_url: str, inspection_id: int) -> list[tuple[str, str]]:
    """(officer id, role) of the inspection's staff, leader first."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT officer_id, role FROM inspection_staff WHERE inspection_id = %s"
            " ORDER BY role <> 'leader', role = 'expert', officer_id",
            (inspection_id,),
        ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def inspector_as(client: httpx.Client, db_url: str, officer_id: str) -> Headers:
    """Headers of the inspector account `wb_<officer>` linked to `officer_id` (one account per
    officer: another account linked to it is unlinked)."""
    username = f"wb_{officer_id}"
    add_user(db_url, username, "inspector")
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "UPDATE users SET officer_id = NULL WHERE officer_id = %s AND username <> %s",
            (officer_id, username),
        )
        conn.execute("UPDATE users SET officer_id = %s WHERE username = %s", (officer_id, username))
    res = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


def team_inspector(client: httpx.Client, db_url: str, inspection_id: int) -> Headers:
    """Headers of an inspector account linked to the inspection's team leader."""
    leader = team_of(db_url, inspection_id)[0][0]
    return inspector_as(client, db_url, leader)
