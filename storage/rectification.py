"""Rectification orders, extension requests, enforcement measures and the document number
sequence (migration 0202)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

from domain.errors import NotFound
from domain.i18n import msg
from storage.errors import amapped_errors
from storage.rows import fetch_value, fetch_values

NEXT_NUMBER = """
INSERT INTO document_numbers (kind, year, last) VALUES (%(kind)s, %(year)s, 1)
ON CONFLICT (kind, year) DO UPDATE SET last = document_numbers.last + 1
RETURNING last
"""
_ORDER = """
SELECT id, inspection_id, enterprise_id, doc_no, deadline, state, notice_id, issued_by,
       issued_at, acknowledged_by, acknowledged_at, submitted_at, escalated_at, closed_at
  FROM rectification_orders
"""
INSERT_ORDER = """
INSERT INTO rectification_orders (inspection_id, enterprise_id, doc_no, deadline, issued_by,
                                  issued_at)
VALUES (%(inspection_id)s, %(enterprise_id)s, %(doc_no)s, %(deadline)s, %(issued_by)s, %(at)s)
RETURNING id
"""
ORDER_BY_ID = _ORDER + " WHERE id = %(id)s"
ORDER_LOCK = ORDER_BY_ID + " FOR UPDATE"
ORDER_OF_INSPECTION = _ORDER + " WHERE inspection_id = %(inspection_id)s"
ORDER_OF_NOTICE = ORDER_BY_ID + " AND notice_id = %(notice_id)s FOR UPDATE"
ORDERS = (
    _ORDER
    + """
 WHERE (%(enterprise_id)s::text IS NULL OR enterprise_id = %(enterprise_id)s)
   AND (%(state)s::text IS NULL OR state = %(state)s)
 ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s
"""
)
OVERDUE = """
SELECT id FROM rectification_orders
 WHERE closed_at IS NULL AND state <> 'overdue' AND deadline < %(today)s ORDER BY id
"""
# Orders escalated as overdue whose overdue period has no alarm (escalated before the alarm
# existed): the subject is domain.rectification.overdue_alarm_subject's `rectification:{id}`.
OVERDUE_UNALARMED = """
SELECT o.id FROM rectification_orders o
 WHERE o.state = 'overdue' AND o.closed_at IS NULL
   AND (%(id)s::bigint IS NULL OR o.id = %(id)s)
   AND NOT EXISTS (
       SELECT 1 FROM alarms a
        WHERE a.enterprise_id = o.enterprise_id AND a.rule = %(rule)s
          AND a.subject = 'rectification:' || o.id::text
          AND (a.state <> 'closed'
               OR a.raised_at >= coalesce(o.escalated_at, '-infinity'::timestamptz)))
 ORDER BY o.id
"""
SET_NOTICE = "UPDATE rectification_orders SET notice_id = %(notice_id)s WHERE id = %(id)s"
SET_STATE = """
UPDATE rectification_orders
   SET state = %(state)s,
       acknowledged_by = CASE WHEN %(event)s = 'ack' THEN %(by)s ELSE acknowledged_by END,
       acknowledged_at = CASE WHEN %(event)s = 'ack' THEN %(at)s ELSE acknowledged_at END,
       submitted_at = CASE WHEN %(event)s = 'evidence' THEN %(at)s ELSE submitted_at END,
       escalated_at = CASE WHEN %(event)s = 'overdue' THEN %(at)s ELSE escalated_at END,
       closed_at = CASE WHEN %(event)s = 'close' THEN %(at)s ELSE closed_at END
 WHERE id = %(id)s
"""
SET_DEADLINE = "UPDATE rectification_orders SET deadline = %(deadline)s WHERE id = %(id)s"
_EXT = """
SELECT id, order_id, requested_deadline, reason, requested_by, requested_at, state, decided_by,
       decided_at, decision_reason, granted_deadline
  FROM rectification_extensions
"""
INSERT_EXT = """
INSERT INTO rectification_extensions (order_id, requested_deadline, reason, requested_by)
VALUES (%(order_id)s, %(requested_deadline)s, %(reason)s, %(by)s)
RETURNING id
"""
EXT_LOCK = _EXT + " WHERE id = %(id)s FOR UPDATE"
EXTS_OF_ORDER = _EXT + " WHERE order_id = %(order_id)s ORDER BY id"
DECIDE_EXT = """
UPDATE rectification_extensions
   SET state = %(state)s, decided_by = %(by)s, decided_at = %(at)s, decision_reason = %(reason)s,
       granted_deadline = %(granted)s
 WHERE id = %(id)s
"""
_MEASURE = """
SELECT id, finding_id, enterprise_id, kind, content, safety_not_ensured, imminent_danger,
       head_approval, refused_at, refusal_note, doc_no, created_by, created_at, meeting_at,
       meeting_place, meeting_attendee, held_at, attendees, minutes, minutes_by
  FROM enforcement_measures
"""
INSERT_MEASURE = """
INSERT INTO enforcement_measures (finding_id, enterprise_id, kind, content, safety_not_ensured,
                                  imminent_danger, head_approval, doc_no, created_by, meeting_at,
                                  meeting_place, meeting_attendee)
VALUES (%(finding_id)s, %(enterprise_id)s, %(kind)s, %(content)s, %(safety_not_ensured)s,
        %(imminent_danger)s, %(head_approval)s, %(doc_no)s, %(created_by)s, %(meeting_at)s,
        %(meeting_place)s, %(meeting_attendee)s)
RETURNING id
"""
MEASURE_LOCK = _MEASURE + " WHERE id = %(id)s FOR UPDATE"
MEASURES_OF_FINDING = _MEASURE + " WHERE finding_id = %(finding_id)s ORDER BY id"
REFUSE = """
UPDATE enforcement_measures SET refused_at = %(at)s, refusal_note = %(note)s
 WHERE id = %(id)s AND refused_at IS NULL
"""
SET_MINUTES = """
UPDATE enforcement_measures SET held_at = %(held_at)s, attendees = %(attendees)s,
       minutes = %(minutes)s, minutes_by = %(by)s
 WHERE id = %(id)s AND held_at IS NULL
"""
VIDEO_OF = "SELECT 1 FROM video_sessions WHERE id = %(id)s AND enterprise_id = %(ent)s"


@dataclass(frozen=True, slots=True)
class OrderRow:
    """A rectification order (责令限期整改指令书)."""

    id: int
    inspection_id: int
    enterprise_id: str
    doc_no: str
    deadline: date
    state: str
    notice_id: int | None
    issued_by: str
    issued_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    submitted_at: datetime | None
    escalated_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ExtensionRow:
    """An extension request and its decision."""

    id: int
    order_id: int
    requested_deadline: date
    reason: str
    requested_by: str
    requested_at: datetime
    state: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    granted_deadline: date | None = None


@dataclass(frozen=True, slots=True)
class MeasureRow:
    """An enforcement measure on a finding."""

    id: int
    finding_id: int
    enterprise_id: str
    kind: str
    content: str
    safety_not_ensured: bool
    imminent_danger: bool
    head_approval: str
    refused_at: datetime | None
    refusal_note: str
    doc_no: str | None
    created_by: str
    created_at: datetime
    meeting_at: datetime | None = None
    meeting_place: str = ""
    meeting_attendee: str = ""
    held_at: datetime | None = None
    attendees: str = ""
    minutes: str = ""
    minutes_by: str | None = None


async def next_number(conn: AsyncConnection[Any], *, kind: str, year: int) -> int:
    """The next number of a document kind in a year (gap-free within committed transactions)."""
    last = await fetch_value(conn, statement=NEXT_NUMBER, params={"kind": kind, "year": year})
    assert last is not None
    return int(last)


async def insert_order(
    conn: AsyncConnection[Any],
    *,
    inspection_id: int,
    enterprise_id: str,
    doc_no: str,
    deadline: date,
    issued_by: str,
    at: datetime,
) -> int:
    """Store a new order; returns its id."""
    params = {
        "inspection_id": inspection_id,
        "enterprise_id": enterprise_id,
        "doc_no": doc_no,
        "deadline": deadline,
        "issued_by": issued_by,
        "at": at,
    }
    order_id = await fetch_value(conn, statement=INSERT_ORDER, params=params)
    assert order_id is not None
    return int(order_id)


async def _one(conn: AsyncConnection[Any], query: str, params: dict[str, Any], cls: Any) -> Any:
    async with amapped_errors(), conn.cursor(row_factory=class_row(cls)) as cur:
        await cur.execute(query, params)
        return await cur.fetchone()


async def get_order(conn: AsyncConnection[Any], *, order_id: int, lock: bool = False) -> OrderRow:
    """One order; NotFound when absent."""
    row: OrderRow | None = await _one(
        conn, ORDER_LOCK if lock else ORDER_BY_ID, {"id": order_id}, OrderRow
    )
    if row is None:
        raise NotFound(msg("rectification.order_not_found", order_id=order_id))
    return row


async def order_of_notice(
    conn: AsyncConnection[Any], *, order_id: int, notice_id: int
) -> OrderRow | None:
    """The order whose MQTT notice is `notice_id`, locked; None when the notice is not its."""
    row: OrderRow | None = await _one(
        conn, ORDER_OF_NOTICE, {"id": order_id, "notice_id": notice_id}, OrderRow
    )
    return row


async def order_of_inspection(conn: AsyncConnection[Any], *, inspection_id: int) -> OrderRow | None:
    """The order issued for an inspection, if any."""
    row: OrderRow | None = await _one(
        conn, ORDER_OF_INSPECTION, {"inspection_id": inspection_id}, OrderRow
    )
    return row


async def list_orders(
    conn: AsyncConnection[Any],
    *,
    enterprise_id: str | None,
    state: str | None,
    limit: int,
    offset: int,
) -> list[OrderRow]:
    """Orders, newest first (an enterprise's own when `enterprise_id` is given)."""
    params = {"enterprise_id": enterprise_id, "state": state, "limit": limit, "offset": offset}
    async with amapped_errors(), conn.cursor(row_factory=class_row(OrderRow)) as cur:
        await cur.execute(ORDERS, params)
        return await cur.fetchall()


async def overdue(conn: AsyncConnection[Any], *, today: date) -> list[int]:
    """Open orders past their deadline and not yet escalated."""
    return [int(i) for i in await fetch_values(conn, statement=OVERDUE, params={"today": today})]


async def overdue_unalarmed(
    conn: AsyncConnection[Any], *, rule: str, order_id: int | None = None
) -> list[int]:
    """Orders in their overdue period without an alarm raised since they were escalated (all,
    or only `order_id`)."""
    found = await fetch_values(
        conn, statement=OVERDUE_UNALARMED, params={"rule": rule, "id": order_id}
    )
    return [int(v) for v in found]


async def set_notice(conn: AsyncConnection[Any], *, order_id: int, notice_id: int) -> None:
    """Link the MQTT notice that carried the order."""
    async with amapped_errors():
        await conn.execute(SET_NOTICE, {"id": order_id, "notice_id": notice_id})


async def set_state(
    conn: AsyncConnection[Any], *, order_id: int, state: str, event: str, by: str, at: datetime
) -> None:
    """Move an order to `state`, stamping the event (ack, evidence, overdue, close)."""
    params = {"id": order_id, "state": state, "event": event, "by": by, "at": at}
    async with amapped_errors():
        await conn.execute(SET_STATE, params)


async def set_deadline(conn: AsyncConnection[Any], *, order_id: int, deadline: date) -> None:
    """Move an order's deadline (an approved extension)."""
    async with amapped_errors():
        await conn.execute(SET_DEADLINE, {"id": order_id, "deadline": deadline})


async def insert_extension(
    conn: AsyncConnection[Any], *, order_id: int, requested_deadline: date, reason: str, by: str
) -> int:
    """Store a pending extension request (one pending per order: Conflict otherwise)."""
    params = {
        "order_id": order_id,
        "requested_deadline": requested_deadline,
        "reason": reason,
        "by": by,
    }
    extension_id = await fetch_value(conn, statement=INSERT_EXT, params=params)
    assert extension_id is not None
    return int(extension_id)


async def get_extension(conn: AsyncConnection[Any], *, extension_id: int) -> ExtensionRow:
    """One extension request, locked; NotFound when absent."""
    row: ExtensionRow | None = await _one(conn, EXT_LOCK, {"id": extension_id}, ExtensionRow)
    if row is None:
        raise NotFound(msg("rectification.extension_not_found", extension_id=extension_id))
    return row


async def extensions(conn: AsyncConnection[Any], *, order_id: int) -> list[ExtensionRow]:
    """An order's extension requests."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(ExtensionRow)) as cur:
        await cur.execute(EXTS_OF_ORDER, {"order_id": order_id})
        return await cur.fetchall()


async def decide_extension(
    conn: AsyncConnection[Any],
    *,
    extension_id: int,
    state: str,
    by: str,
    at: datetime,
    reason: str,
    granted: date | None = None,
) -> None:
    """Approve (with the deadline granted) or reject an extension request."""
    params = {
        "id": extension_id,
        "state": state,
        "by": by,
        "at": at,
        "reason": reason,
        "granted": granted,
    }
    async with amapped_errors():
        await conn.execute(DECIDE_EXT, params)


async def insert_measure(conn: AsyncConnection[Any], *, values: dict[str, Any]) -> int:
    """Store an enforcement measure; returns its id."""
    measure_id = await fetch_value(conn, statement=INSERT_MEASURE, params=values)
    assert measure_id is not None
    return int(measure_id)


async def get_measure(conn: AsyncConnection[Any], *, measure_id: int) -> MeasureRow:
    """One measure, locked; NotFound when absent."""
    row: MeasureRow | None = await _one(conn, MEASURE_LOCK, {"id": measure_id}, MeasureRow)
    if row is None:
        raise NotFound(msg("measure.not_found", measure_id=measure_id))
    return row


async def measures(conn: AsyncConnection[Any], *, finding_id: int) -> list[MeasureRow]:
    """The measures taken on a finding."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(MeasureRow)) as cur:
        await cur.execute(MEASURES_OF_FINDING, {"finding_id": finding_id})
        return await cur.fetchall()


async def refuse(conn: AsyncConnection[Any], *, measure_id: int, note: str, at: datetime) -> bool:
    """Record the enterprise's refusal to carry out a measure; False if already recorded."""
    async with amapped_errors():
        cur = await conn.execute(REFUSE, {"id": measure_id, "note": note, "at": at})
    return cur.rowcount == 1


async def set_minutes(
    conn: AsyncConnection[Any],
    *,
    measure_id: int,
    held_at: datetime,
    attendees: str,
    minutes: str,
    by: str,
) -> bool:
    """Keep the record of a held 约谈; False if it was already recorded."""
    params = {
        "id": measure_id,
        "held_at": held_at,
        "attendees": attendees,
        "minutes": minutes,
        "by": by,
    }
    async with amapped_errors():
        cur = await conn.execute(SET_MINUTES, params)
    return cur.rowcount == 1


async def video_session_of(conn: AsyncConnection[Any], *, session_id: str, ent: str) -> bool:
    """Whether a video session with the enterprise exists (a 复查's recording)."""
    found = await fetch_value(conn, statement=VIDEO_OF, params={"id": session_id, "ent": ent})
    return found is not None


ISSUED = "SELECT doc_no FROM issued_documents WHERE kind = %(kind)s AND subject = %(subject)s"
ISSUE = """
INSERT INTO issued_documents (kind, subject, doc_no) VALUES (%(kind)s, %(subject)s, %(doc_no)s)
ON CONFLICT (kind, subject) DO NOTHING
RETURNING doc_no
"""


async def issued_number(conn: AsyncConnection[Any], *, kind: str, subject: str) -> str | None:
    """The number a document was issued with, if it was."""
    issued = await fetch_value(conn, statement=ISSUED, params={"kind": kind, "subject": subject})
    return None if issued is None else str(issued)


async def issue_number(
    conn: AsyncConnection[Any], *, kind: str, subject: str, doc_no: str
) -> str | None:
    """Keep a document's number; None when another request issued it first."""
    params = {"kind": kind, "subject": subject, "doc_no": doc_no}
    issued = await fetch_value(conn, statement=ISSUE, params=params)
    return None if issued is None else str(issued)
