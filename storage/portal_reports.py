"""Reports an enterprise sends from the portal over HTTPS, queued for the monitor's ingest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

from storage.errors import amapped_errors
from storage.rows import fetch_value

CHANNEL = "safewatch_portal"
LISTEN = "LISTEN safewatch_portal"  # CHANNEL
SUBMIT = """
INSERT INTO portal_reports (enterprise_id, kind, payload, submitted_by)
VALUES (%(ent)s, %(kind)s, %(payload)s, %(by)s)
RETURNING id
"""
NOTIFY = "SELECT pg_notify('safewatch_portal', %(id)s::text)"
CLAIM = """
UPDATE portal_reports SET claimed_at = %(now)s
 WHERE id IN (SELECT id FROM portal_reports
               WHERE state = 'pending' AND (claimed_at IS NULL OR claimed_at < %(stale)s)
               ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
RETURNING id, enterprise_id, kind, payload
"""
FINISH = """
UPDATE portal_reports SET state = %(state)s, code = %(code)s, reason = %(reason)s,
       done_at = %(now)s
 WHERE id = %(id)s AND state = 'pending'
"""
GET = """
SELECT id, enterprise_id, kind, submitted_by, submitted_at, state, code, reason, done_at
  FROM portal_reports WHERE id = %(id)s AND enterprise_id = %(ent)s
"""
LIST = """
SELECT id, enterprise_id, kind, submitted_by, submitted_at, state, code, reason, done_at
  FROM portal_reports WHERE enterprise_id = %(ent)s ORDER BY id DESC LIMIT %(limit)s
"""


@dataclass(frozen=True, slots=True)
class Claimed:
    """A queued report taken by one ingest."""

    id: int
    enterprise_id: str
    kind: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Report:
    """A report and what the ingest made of it."""

    id: int
    enterprise_id: str
    kind: str
    submitted_by: str
    submitted_at: datetime
    state: str
    code: str | None
    reason: str | None
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the ingest made of one report: state 'stored' or 'refused' (with code and reason)."""

    id: int
    state: str
    code: str | None = None
    reason: str | None = None


async def submit(
    conn: AsyncConnection[Any], *, ent: str, kind: str, payload: bytes, by: str
) -> int:
    """Queue one report and wake the ingest on commit; returns its id."""
    params = {"ent": ent, "kind": kind, "payload": payload, "by": by}
    report_id = await fetch_value(conn, statement=SUBMIT, params=params)
    assert report_id is not None
    async with amapped_errors():
        await conn.execute(NOTIFY, {"id": report_id})
    return int(report_id)


async def claim(
    conn: AsyncConnection[Any], *, now: datetime, stale: timedelta, limit: int = 200
) -> list[Claimed]:
    """Take pending reports (those another ingest claimed more than `stale` ago too)."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(Claimed)) as cur:
        await cur.execute(CLAIM, {"now": now, "stale": now - stale, "limit": limit})
        rows = await cur.fetchall()
    return sorted(rows, key=lambda r: r.id)


async def finish(conn: AsyncConnection[Any], *, outcomes: list[Outcome], now: datetime) -> None:
    """Record what the ingest made of each report."""
    async with amapped_errors(), conn.cursor() as cur:
        await cur.executemany(
            FINISH,
            [
                {"id": o.id, "state": o.state, "code": o.code, "reason": o.reason, "now": now}
                for o in outcomes
            ],
        )


async def get(conn: AsyncConnection[Any], *, ent: str, report_id: int) -> Report | None:
    """One report of the enterprise (None for another enterprise's id)."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(Report)) as cur:
        await cur.execute(GET, {"id": report_id, "ent": ent})
        return await cur.fetchone()


async def list_reports(conn: AsyncConnection[Any], *, ent: str, limit: int = 50) -> list[Report]:
    """The enterprise's latest reports, newest first."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(Report)) as cur:
        await cur.execute(LIST, {"ent": ent, "limit": limit})
        return await cur.fetchall()
