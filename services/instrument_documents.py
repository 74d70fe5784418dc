"""The flexible instruments' documents (measure 4): 责令限期改正通知书, 批评教育告知书, 约谈通知书,
约谈记录 and 行政告诫书, built from the measure's record and the finding it acts on, under the
bureau's name and a number of the document's own sequence (config/documents.yaml), kept from
its first issue. Readers: supervisors, the inspection's team, the enterprise addressed."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from config.policy_documents import DocumentSettings
from domain import instruments
from domain.documents import Document
from domain.i18n import render
from domain.inspection_access import role_label
from domain.users import Principal
from services.documents import document_number, finding_rows
from storage import findings, inspection_teams, inspections, users
from storage import rectification as orders

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def for_measure(
    conn: AsyncConnection[Any],
    *,
    measure_id: int,
    document: str,
    principal: Principal,
    documents: DocumentSettings,
    now: datetime,
    tz: ZoneInfo = SHANGHAI,
) -> Document:
    """One document of an instrument. The measure row is locked while a first issue takes the
    next number, so concurrent first prints of one document share a number and the sequence has
    no gaps."""
    measure = await orders.get_measure(conn, measure_id=measure_id)  # locked (FOR UPDATE)
    row = await findings.get(conn, finding_id=measure.finding_id)
    assert row.inspection_id is not None
    team = await inspection_teams.team(conn, inspection_id=row.inspection_id)
    officer = await users.officer_of(conn, user_id=principal.user_id)
    instruments.ensure_may_read(
        principal,
        enterprise_id=measure.enterprise_id,
        officer_id=officer,
        team={m.officer_id for m in team if m.role != "expert"},
    )
    kind = instruments.document_of(
        measure_id=measure_id, measure_kind=measure.kind, document=document
    )
    instruments.ensure_ready(document=kind, meeting_at=measure.meeting_at, held_at=measure.held_at)
    inspection = await inspections.get_inspection(conn, inspection_id=row.inspection_id)
    number = await document_number(
        conn,
        documents=documents,
        kind=kind,
        subject=str(measure_id),
        year=now.astimezone(tz).year,
    )
    officers = "；".join(
        f"{m.name}（{render(role_label(m.role))}，执法证号 {m.certificate_no or '—'}）"
        for m in team
        if m.role != "expert"
    )
    facts = instruments.InstrumentFacts(
        kind=kind,
        bureau=documents.bureau,
        doc_no=number,
        measure_no=measure.doc_no or "—",
        enterprise_name=inspection.enterprise_name,
        credit_code=inspection.credit_code,
        content=measure.content,
        finding_row=finding_rows([row])[0],
        legal_basis=row.legal_basis,
        deadline=row.deadline,
        corrected_on_site=row.corrected_on_site,
        inspected_on=inspection.inspected_on or inspection.planned_from,
        officers=officers,
        outcome=row.decision or row.recommendation,
        meeting_at=measure.meeting_at,
        meeting_place=measure.meeting_place,
        meeting_attendee=measure.meeting_attendee,
        held_at=measure.held_at,
        attendees=measure.attendees,
        minutes=measure.minutes,
    )
    return instruments.build(facts, tz)
