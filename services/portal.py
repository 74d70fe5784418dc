"""The enterprise portal's reports (企业端): queued for the ingest, which stores them through the
same pipeline as MQTT uplinks; the portal waits for the outcome to tell the user."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from domain.errors import Forbidden, TooLarge, ValidationFailed
from domain.i18n import msg
from services.changes import Actor, Audit, record
from storage import portal_reports
from storage.portal_reports import Report

#: Uplink kinds the portal may send (storage CHECK of portal_reports.kind).
KINDS = frozenset({"event", "commitment", "ack"})
#: Keys without which a report of each kind cannot be anything but refused (refused at once;
#: every other check is the ingest's).
_REQUIRED = {"event": ("event_id", "type", "ts"), "commitment": ("date",), "ack": ("ref", "ts")}
#: How often the portal looks whether the ingest has taken a report.
POLL_S = 0.05


async def submit(
    conn: AsyncConnection[Any],
    *,
    ent: str,
    kind: str,
    payload: bytes,
    max_bytes: int,
    actor: Actor,
) -> int:
    """Queue one report of the signed-in enterprise user's own enterprise; returns its id."""
    principal = actor.principal
    if principal is None or principal.enterprise_id != ent:
        raise Forbidden(msg("portal.own_enterprise_only"))
    if kind not in KINDS:
        raise ValidationFailed(msg("portal.reject.topic_unknown"))
    if len(payload) > max_bytes:
        raise TooLarge(msg("portal.reject.payload_too_large"), details={"max_bytes": max_bytes})
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ValidationFailed(msg("portal.reject.json_invalid")) from exc
    if not isinstance(body, dict):
        raise ValidationFailed(msg("portal.body"))
    missing = [k for k in _REQUIRED[kind] if k not in body]
    if missing:
        raise ValidationFailed(
            msg(
                "portal.refused",
                why=msg(
                    "portal.reject.schema_invalid",
                    fields=[msg(f"term.report_field.{k}") for k in missing],
                ),
            ),
            details={"code": "schema_invalid", "missing": missing},
        )
    report_id = await portal_reports.submit(
        conn, ent=ent, kind=kind, payload=payload, by=principal.username
    )
    summary = {k: body.get(k) for k in ("event_id", "type", "ts", "ref", "date") if k in body}
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            f"portal.{kind}", f"portal_report:{report_id}", after={"kind": kind, **summary}
        ),
        changes=[("portal_report", ent, {"id": report_id, "kind": kind, "state": "pending"})],
    )
    return report_id


async def await_outcome(
    pool: AsyncConnectionPool, *, ent: str, report_id: int, within: float
) -> Report:
    """The report once the ingest has taken it, or as it stands after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        async with pool.connection() as conn:
            report = await portal_reports.get(conn, ent=ent, report_id=report_id)
        assert report is not None
        if report.state != "pending" or time.monotonic() >= deadline:
            return report
        await asyncio.sleep(POLL_S)
