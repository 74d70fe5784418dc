"""The rectification loop: the order to the enterprise (MQTT notice + its pages), its
acknowledgement and evidence, extension requests decided by a supervisor, 复查 closing each
finding, escalation of overdue orders, and enforcement measures (measures 3 and 4)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from config.policy_documents import DocumentSettings
from config.policy_monitoring import MonitoringPolicy
from domain import rectification as rules
from domain.alarms import Rule, RuleSpec
from domain.clock import utcnow
from domain.downlinks import ttl
from domain.errors import Forbidden, RuleViolation, ValidationFailed
from domain.i18n import msg, render
from domain.inspection_access import OVERSEERS, ensure_reason
from domain.monitoring import EnterpriseId, raise_one
from domain.users import Role
from services import evidence
from services.changes import SYSTEM, Actor, Audit, Change, record, site_actor
from services.downlinks import live_payload
from services.inspection_teams import acting_member
from storage import alarms, downlinks, findings, inspections
from storage import rectification as orders
from storage.downlinks import Downlink
from storage.evidence_files import EvidenceRow
from storage.rectification import OrderRow

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def _enterprise_only(actor: Actor, order: OrderRow) -> str:
    """The order's own enterprise account acts on it (staff never act in its name)."""
    p = actor.principal
    assert p is not None
    if p.role is not Role.ENTERPRISE or p.enterprise_id != order.enterprise_id:
        raise Forbidden(msg("rectification.enterprise_only"))
    return p.username


async def doc_no(
    conn: AsyncConnection[Any], *, documents: DocumentSettings, kind: str, year: int
) -> str:
    """The next number of a document kind, as printed."""
    n = await orders.next_number(conn, kind=kind, year=year)
    return rules.doc_number(documents.prefix(kind), year, n)


async def issue(
    conn: AsyncConnection[Any],
    *,
    inspection_id: int,
    documents: DocumentSettings,
    monitoring: MonitoringPolicy,
    actor: Actor,
    tz: ZoneInfo = SHANGHAI,
    now: datetime | None = None,
) -> OrderRow:
    """Issue the 责令限期整改指令书 for an inspection's open findings: numbered, sent to the
    site as an MQTT `notice` (kind `rectification_order`) and shown on the enterprise's pages."""
    now = now or utcnow()
    inspection = await inspections.get_inspection(conn, inspection_id=inspection_id)
    await acting_member(conn, inspection=inspection, actor=actor, today=_today(now, tz))
    existing = await orders.order_of_inspection(conn, inspection_id=inspection_id)
    if existing is not None:
        raise RuleViolation(msg("rectification.exists", doc_no=existing.doc_no))
    ids = await findings.to_order(conn, inspection_id=inspection_id)
    if not ids:
        raise RuleViolation(msg("rectification.nothing_to_order"))
    rows = [await findings.get(conn, finding_id=i) for i in ids]
    deadline = max(r.deadline for r in rows if r.deadline is not None)
    number = await doc_no(
        conn, documents=documents, kind="rectification_order", year=_today(now, tz).year
    )
    assert actor.principal is not None
    order_id = await orders.insert_order(
        conn,
        inspection_id=inspection_id,
        enterprise_id=inspection.credit_code,
        doc_no=number,
        deadline=deadline,
        issued_by=actor.principal.username,
        at=now,
    )
    await findings.attach(conn, order_id=order_id, ids=ids)
    notice = await downlinks.create(
        conn,
        channel="notice",
        ent=inspection.credit_code,
        kind="rectification_order",
        text=render(
            msg(
                "rectification.notice",
                name=inspection.enterprise_name,
                doc_no=number,
                deadline=deadline,
                count=len(ids),
            )
        ),
        extra={
            "order_id": order_id,
            "doc_no": number,
            "deadline": deadline.isoformat(),
            "findings": [
                {
                    "id": r.id,
                    "item_code": r.item_code,
                    "measure": r.measure,
                    "deadline": r.deadline.isoformat() if r.deadline else None,
                }
                for r in rows
            ],
            "page": f"/enterprise/rectifications/{order_id}",
        },
        sender=actor.principal.username,
        requires_ack=True,
        expires_at=now + ttl(monitoring, "notice"),
        now=now,
    )
    await orders.set_notice(conn, order_id=order_id, notice_id=notice.id)
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            action="rectification.issue",
            target=f"rectification:{order_id}",
            after={"doc_no": number, "deadline": deadline.isoformat(), "findings": ids},
        ),
        changes=[
            ("guidance", inspection.credit_code, live_payload(notice, "created")),
            ("rectification", inspection.credit_code, {"id": order_id, "state": "issued"}),
        ],
    )
    return await orders.get_order(conn, order_id=order_id)


async def _moved(
    conn: AsyncConnection[Any],
    order: OrderRow,
    *,
    actor: Actor,
    action: str,
    state: str,
    event: str,
    at: datetime,
    after: dict[str, Any] | None = None,
    staff_too: bool = False,
    more: list[Change] | None = None,
) -> OrderRow:
    await orders.set_state(conn, order_id=order.id, state=state, event=event, by=actor.name, at=at)
    change = {"id": order.id, "state": state}
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            action=action,
            target=f"rectification:{order.id}",
            before={"state": order.state},
            after={"state": state, **(after or {})},
        ),
        changes=[
            ("rectification", order.enterprise_id, change),
            *(
                [("supervisor_notice", None, {"rectification": order.id, **change})]
                if staff_too
                else []
            ),
            *(more or []),
        ],
    )
    return await orders.get_order(conn, order_id=order.id)


async def _close_overdue_alarm(
    conn: AsyncConnection[Any], order: OrderRow, *, cause: str, text: str, now: datetime
) -> list[Change]:
    """Close the order's open overdue alarm, if any (the system: its cause went away)."""
    return await alarms.close_resolved(
        conn,
        ent=order.enterprise_id,
        rule=Rule.RECTIFICATION_OVERDUE.value,
        subject=rules.overdue_alarm_subject(order.id),
        now=now,
        by="system",
        cause=cause,
        text=text,
    )


async def acknowledge(
    conn: AsyncConnection[Any], *, order_id: int, actor: Actor, now: datetime | None = None
) -> OrderRow:
    """The enterprise confirms it received the order (on its pages; once: an order already
    acknowledged, here or by its site over MQTT, is returned unchanged and nothing is written)."""
    order = await orders.get_order(conn, order_id=order_id, lock=True)
    _enterprise_only(actor, order)
    rules.ensure_open(order.state, order_id)
    return await _acknowledged(conn, order, actor=actor, at=now or utcnow())


async def acknowledge_notice(
    conn: AsyncConnection[Any], *, notice: Downlink, at: datetime, by: str | None
) -> OrderRow | None:
    """The site acknowledged the order's MQTT `notice` on `…/ack` (its broker account, so its
    own enterprise): the order is acknowledged as on its pages, attributed to the site's
    account. Idempotent; None when the notice is not an order's. A closed order stays closed
    (the ingest refuses nothing for it: the downlink itself was acknowledged)."""
    order_id = notice.extra.get("order_id")
    if notice.kind != "rectification_order" or not isinstance(order_id, int):
        return None
    order = await orders.order_of_notice(conn, order_id=order_id, notice_id=notice.id)
    if order is None or order.enterprise_id != notice.enterprise_id:
        return None
    if order.state == "closed":
        return order
    after = {"via": "mqtt", "notice": notice.ref, "acked_by": by}
    return await _acknowledged(
        conn, order, actor=site_actor(notice.enterprise_id), at=at, after=after
    )


async def _acknowledged(
    conn: AsyncConnection[Any],
    order: OrderRow,
    *,
    actor: Actor,
    at: datetime,
    after: dict[str, Any] | None = None,
) -> OrderRow:
    if order.acknowledged_at is not None:
        return order
    return await _moved(
        conn,
        order,
        actor=actor,
        action="rectification.acknowledge",
        state=rules.after_acknowledgement(order.state),
        event="ack",
        at=at,
        after=after,
    )


async def submit_evidence(
    conn: AsyncConnection[Any],
    *,
    order_id: int,
    filename: str,
    data: bytes,
    note: str,
    actor: Actor,
    now: datetime | None = None,
) -> EvidenceRow:
    """The enterprise uploads a photo or document showing the rectification."""
    order = await orders.get_order(conn, order_id=order_id, lock=True)
    _enterprise_only(actor, order)
    rules.ensure_open(order.state, order_id)
    row = await evidence.file(
        conn,
        enterprise_id=order.enterprise_id,
        subject_kind="rectification",
        subject_id=str(order_id),
        filename=filename,
        data=data,
        note=note,
        actor=actor,
    )
    await _moved(
        conn,
        order,
        actor=actor,
        action="rectification.evidence",
        state="submitted",
        event="evidence",
        at=now or utcnow(),
        after=evidence.described(row),
        staff_too=True,
    )
    return row


async def request_extension(
    conn: AsyncConnection[Any],
    *,
    order_id: int,
    requested_deadline: date,
    reason: str,
    actor: Actor,
    tz: ZoneInfo = SHANGHAI,
    now: datetime | None = None,
) -> int:
    """The enterprise asks for a later deadline with a reason (one pending request at a time)."""
    now = now or utcnow()
    order = await orders.get_order(conn, order_id=order_id, lock=True)
    by = _enterprise_only(actor, order)
    rules.ensure_open(order.state, order_id)
    text = rules.check_extension(
        requested=requested_deadline, current=order.deadline, today=_today(now, tz), reason=reason
    )
    ext_id = await orders.insert_extension(
        conn, order_id=order_id, requested_deadline=requested_deadline, reason=text, by=by
    )
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            action="rectification.extension_request",
            target=f"rectification_extension:{ext_id}",
            after={
                "order_id": order_id,
                "requested_deadline": requested_deadline.isoformat(),
                "reason": text,
            },
        ),
        changes=[
            ("rectification", order.enterprise_id, {"id": order_id, "extension": ext_id}),
            ("supervisor_notice", None, {"rectification": order_id, "extension": ext_id}),
        ],
    )
    return ext_id


async def decide_extension(
    conn: AsyncConnection[Any],
    *,
    extension_id: int,
    approve: bool,
    reason: str,
    actor: Actor,
    granted: date | None = None,
    tz: ZoneInfo = SHANGHAI,
    now: datetime | None = None,
) -> OrderRow:
    """A supervisor approves — with the requested deadline or a shorter one (`granted`) — (the
    order's and its open findings' deadlines move; a provisional 不予/首违 outcome keeps its
    original verification deadline — bureau interpretation) or rejects an extension request,
    with a reason."""
    assert actor.principal is not None
    if actor.principal.role not in OVERSEERS:
        raise Forbidden(msg("rectification.supervisor_only"))
    now = now or utcnow()
    ext = await orders.get_extension(conn, extension_id=extension_id)
    if ext.state != "pending":
        raise RuleViolation(
            msg("rectification.extension_decided", extension_id=extension_id, state=ext.state)
        )
    text = ensure_reason(reason)
    order = await orders.get_order(conn, order_id=ext.order_id, lock=True)
    rules.ensure_open(order.state, order.id)
    state = "approved" if approve else "rejected"
    deadline = (granted or ext.requested_deadline) if approve else None
    if deadline is not None and granted is not None:
        rules.check_granted(
            granted=deadline,
            requested=ext.requested_deadline,
            current=order.deadline,
            today=now.astimezone(tz).date(),
        )
    await orders.decide_extension(
        conn,
        extension_id=extension_id,
        state=state,
        by=actor.principal.username,
        at=now,
        reason=text,
        granted=deadline,
    )
    if deadline is not None:
        await orders.set_deadline(conn, order_id=order.id, deadline=deadline)
        await findings.extend(conn, order_id=order.id, deadline=deadline)
        if order.state == "overdue":
            back = "submitted" if order.submitted_at else "acknowledged"
            await orders.set_state(
                conn, order_id=order.id, state=back, event="extend", by="", at=now
            )
        closed_alarms = await _close_overdue_alarm(
            conn,
            order,
            cause="deadline_extended",
            text=render(msg("alarm.rectification_overdue.extended", deadline=deadline)),
            now=now,
        )
    else:
        closed_alarms = []
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            action=f"rectification.extension_{state}",
            target=f"rectification_extension:{extension_id}",
            before={"deadline": order.deadline.isoformat(), "state": "pending"},
            after={
                "state": state,
                "reason": text,
                "deadline": (deadline or order.deadline).isoformat(),
                "requested_deadline": ext.requested_deadline.isoformat(),
                "alarms_closed": [c[2]["id"] for c in closed_alarms],
            },
        ),
        changes=[
            ("rectification", order.enterprise_id, {"id": order.id, "extension": state}),
            *closed_alarms,
        ],
    )
    return await orders.get_order(conn, order_id=order.id)


async def reinspect(
    conn: AsyncConnection[Any],
    *,
    finding_id: int,
    inspection_id: int,
    result: str,
    method: str,
    note: str,
    video_session_id: str | None,
    actor: Actor,
    tz: ZoneInfo = SHANGHAI,
    now: datetime | None = None,
) -> OrderRow | None:
    """复查 of one finding, on site or by video (the recording is the evidence), by the team of
    the original inspection or of a follow-up inspection of it; passed closes the finding and,
    with all its order's findings passed, the order. Returns the order."""
    now = now or utcnow()
    today = _today(now, tz)
    row = await findings.get(conn, finding_id=finding_id, lock=True)
    visit = await inspections.get_inspection(conn, inspection_id=inspection_id)
    if visit.id != row.inspection_id and visit.follow_up_of != row.inspection_id:
        raise ValidationFailed(
            msg("rectification.reinspect_team"), details={"inspection_id": inspection_id}
        )
    await acting_member(conn, inspection=visit, actor=actor, today=today)
    if row.closed_at is not None:
        raise RuleViolation(msg("finding.closed_already", finding_id=finding_id))
    if result not in ("passed", "failed") or method not in ("onsite", "video"):
        raise ValidationFailed(msg("rectification.reinspection_values"))
    if method == "video" and not (
        video_session_id
        and await orders.video_session_of(conn, session_id=video_session_id, ent=row.enterprise_id)
    ):
        raise ValidationFailed(
            msg("rectification.video_needs_session"), details={"video_session_id": None}
        )
    text = note.strip()
    if result == "failed":
        text = ensure_reason(note, field="note")
    await findings.reinspect(
        conn,
        finding_id=finding_id,
        inspection_id=inspection_id,
        result=result,
        method=method,
        note=text,
        video=video_session_id,
        at=now,
    )
    if result == "passed":
        await findings.verify(conn, finding_id=finding_id, on=today, at=now)
    order = None
    closed = False
    closed_alarms: list[Change] = []
    if row.order_id is not None:
        order = await orders.get_order(conn, order_id=row.order_id, lock=True)
        covered = await findings.for_order(conn, order_id=order.id)
        if all(f.reinspection_result == "passed" for f in covered) and order.state != "closed":
            await orders.set_state(
                conn,
                order_id=order.id,
                state="closed",
                event="close",
                by=actor.principal.username if actor.principal else "",
                at=now,
            )
            closed = True
            closed_alarms = await _close_overdue_alarm(
                conn,
                order,
                cause="rectification_verified",
                text=render(msg("alarm.rectification_overdue.verified")),
                now=now,
            )
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            action="finding.reinspect",
            target=f"finding:{finding_id}",
            after={
                "inspection_id": inspection_id,
                "result": result,
                "method": method,
                "note": text,
                "video_session_id": video_session_id,
                "order_closed": order.id if closed and order else None,
                "alarms_closed": [c[2]["id"] for c in closed_alarms],
            },
        ),
        changes=[
            ("finding", row.enterprise_id, {"id": finding_id, "reinspection": result}),
            *(
                [("rectification", row.enterprise_id, {"id": order.id, "state": "closed"})]
                if closed and order
                else []
            ),
            *closed_alarms,
        ],
    )
    return await orders.get_order(conn, order_id=order.id) if order else None


async def _raise_overdue(
    conn: AsyncConnection[Any],
    order: OrderRow,
    *,
    alarm_rules: Mapping[str, RuleSpec],
    now: datetime,
) -> tuple[list[int], list[Change]]:
    """Raise the order's overdue alarm; its ids and the live changes to announce."""
    inspection = await inspections.get_inspection(conn, inspection_id=order.inspection_id)
    raised: list[Change] = []
    alarm_ids = await alarms.apply(
        conn,
        outcome=raise_one(
            EnterpriseId(order.enterprise_id),
            Rule.RECTIFICATION_OVERDUE.value,
            rules.overdue_alarm_subject(order.id),
            msg(
                "alarm.rectification_overdue",
                name=inspection.enterprise_name,
                doc_no=order.doc_no,
                deadline=order.deadline,
            ),
            at=now,
            order_id=order.id,
            doc_no=order.doc_no,
            deadline=order.deadline.isoformat(),
            inspection_id=order.inspection_id,
        ),
        rules=alarm_rules,
        now=now,
        repeat=False,
        live_out=raised,
    )
    return alarm_ids, raised


async def sweep_overdue(
    conn: AsyncConnection[Any],
    *,
    today: date,
    now: datetime,
    alarm_rules: Mapping[str, RuleSpec],
) -> list[int]:
    """Orders past their deadline without a closing 复查: escalated once to the supervisors and
    raised as a `rectification_overdue` alarm in the duty/supervisor alarm queue. Once per
    overdue period: the order row is locked and its state checked, so scheduler replicas and
    restarts do not raise it again; an approved extension or a passing 复查 closes the alarm.
    An order escalated before the alarm existed gets its alarm here too, once."""
    done = []
    for order_id in await orders.overdue(conn, today=today):
        order = await orders.get_order(conn, order_id=order_id, lock=True)
        if not rules.is_overdue(state=order.state, deadline=order.deadline, today=today):
            continue
        text = render(msg("rectification.overdue", doc_no=order.doc_no, deadline=order.deadline))
        alarm_ids, raised = await _raise_overdue(conn, order, alarm_rules=alarm_rules, now=now)
        await _moved(
            conn,
            order,
            actor=SYSTEM,
            action="rectification.overdue",
            state="overdue",
            event="overdue",
            at=now,
            after={"escalated_to": "supervisor", "text": text, "alarms": alarm_ids},
            staff_too=True,
            more=raised,
        )
        done.append(order_id)
    rule = Rule.RECTIFICATION_OVERDUE.value
    for order_id in await orders.overdue_unalarmed(conn, rule=rule):
        order = await orders.get_order(conn, order_id=order_id, lock=True)
        # checked again under the lock: another replica may have raised it meanwhile
        if not await orders.overdue_unalarmed(conn, rule=rule, order_id=order_id):
            continue
        alarm_ids, raised = await _raise_overdue(conn, order, alarm_rules=alarm_rules, now=now)
        await record(
            conn,
            actor=SYSTEM,
            audit_entry=Audit(
                action="rectification.overdue_alarm",
                target=f"rectification:{order.id}",
                after={"alarms": alarm_ids, "escalated_at": str(order.escalated_at)},
            ),
            changes=raised,
        )
    return done
