"""The flexible instruments' documents (measure 4): 责令限期改正通知书, 批评教育告知书, 约谈通知书,
约谈记录 and 行政告诫书 as printable HTML or PDF; and the record of a held 行政约谈."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.common import client_ip
from api.deps import ConnDep, PoliciesDep, SettingsDep, require_roles
from api.errors import ERROR_RESPONSES
from api.routes.documents import FILE_RESPONSES, Format, document_response
from api.routes.rectification import Inspector, MeasureId, MeasureOut
from domain.clock import utcnow
from domain.users import Principal, Role
from services import instrument_documents as service
from services import measures as measure_service
from services.changes import Actor
from storage import rectification as orders

router = APIRouter(tags=["documents"], responses=ERROR_RESPONSES)

#: Supervisors, the team's officers and the enterprise addressed (checked on the record); duty
#: staff do not read enforcement documents.
Reader = Annotated[
    Principal,
    Depends(require_roles(Role.ADMIN, Role.SUPERVISOR, Role.INSPECTOR, Role.ENTERPRISE)),
]


class MinutesIn(BaseModel):
    """The record of a held 行政约谈."""

    model_config = ConfigDict(extra="forbid")
    held_at: AwareDatetime = Field(description="when the interview was held (RFC 3339)")
    attendees: str = Field(max_length=500, description="被约谈人及参加人员 (names, posts)")
    minutes: str = Field(max_length=4000, description="约谈情况: what was said and required")


@router.post("/api/v1/measures/{measure_id}/minutes", response_model=MeasureOut)
async def record_minutes(
    measure_id: MeasureId,
    body: MinutesIn,
    who: Inspector,
    conn: ConnDep,
    settings: SettingsDep,
    request: Request,
) -> MeasureOut:
    """The 约谈记录's facts, by the team, once (an interview only)."""
    await measure_service.record_minutes(
        conn,
        measure_id=measure_id,
        held_at=body.held_at,
        attendees=body.attendees,
        minutes=body.minutes,
        actor=Actor(who, client_ip(request)),
        tz=settings.tz,
    )
    measure = await orders.get_measure(conn, measure_id=measure_id)
    return MeasureOut.model_validate(measure, from_attributes=True)


@router.get(
    "/api/v1/measures/{measure_id}/documents/{document}",
    response_class=Response,
    responses=FILE_RESPONSES,
)
async def instrument_document(
    measure_id: MeasureId,
    document: Annotated[
        str,
        Path(
            max_length=40,
            description="rectify_notice | education_notice | interview_notice | "
            "interview_record | warning_notice (the measure's kind decides which it has)",
        ),
    ],
    who: Reader,
    conn: ConnDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    format: Format = "html",
) -> Response:
    """An instrument's document, listing the finding's basis, cause and measure; numbered
    from the document's own sequence at its first issue."""
    doc = await service.for_measure(
        conn,
        measure_id=measure_id,
        document=document,
        principal=who,
        documents=policies.documents,
        now=utcnow(),
        tz=settings.tz,
    )
    return await document_response(doc, format)
