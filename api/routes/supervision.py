"""What the supervisors' pages read: extension requests to decide, and an enterprise's yearly
cap on inspections before one is made by hand (重点、举报、复查)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from api.deps import ConnDep, PoliciesDep, SettingsDep, require_roles
from api.errors import ERROR_RESPONSES
from api.routes.monitoring_common import VisibleEnt
from domain.clock import utcnow
from domain.users import Principal, Role
from services import inspection_teams
from storage import supervision

router = APIRouter(tags=["workbench"], responses=ERROR_RESPONSES)

Overseer = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR))]


class QueuedExtensionOut(BaseModel):
    """An extension request with its order (number, current deadline, state) and enterprise."""

    id: int
    order_id: int
    doc_no: str
    inspection_id: int
    enterprise_id: str
    enterprise_name: str
    current_deadline: date
    order_state: str
    requested_deadline: date
    reason: str
    requested_by: str
    requested_at: datetime
    state: str
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    granted_deadline: date | None = None


class YearInspectionOut(BaseModel):
    """One inspection of the enterprise in the year (cancelled ones do not count)."""

    id: int
    source: str
    status: str
    planned_from: date
    planned_to: date
    inspected_on: date | None = None


class YearlyCapOut(BaseModel):
    """The enterprise's yearly cap (国办发〔2024〕54号; the number is the bureau's), how many
    inspections count against it, what remains, and the inspections of that year."""

    credit_code: str
    enterprise_name: str
    year: int
    cap: int
    counted: int
    remaining: int
    inspections: list[YearInspectionOut]


@router.get("/api/v1/rectification-extensions", response_model=list[QueuedExtensionOut])
async def extension_queue(
    _: Overseer,
    conn: ConnDep,
    state: Literal["pending", "approved", "rejected"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[QueuedExtensionOut]:
    """Extension requests for a supervisor to decide (pending first), with their orders."""
    rows = await supervision.extensions(conn, state=state, limit=limit, offset=offset)
    return [QueuedExtensionOut.model_validate(r, from_attributes=True) for r in rows]


@router.get("/api/v1/enterprises/{ent}/inspection-cap", response_model=YearlyCapOut)
async def inspection_cap(
    ent: VisibleEnt,
    _: Overseer,
    conn: ConnDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> YearlyCapOut:
    """How many more inspections the enterprise may have this year (or `year`)."""
    year = year or utcnow().astimezone(settings.tz).year
    cap = await inspection_teams.year_cap(
        conn, credit_code=ent, year=year, yearly_cap=policies.sampling.defaults.yearly_cap.value
    )
    rows = await supervision.of_year(conn, credit_code=ent, year=year)
    return YearlyCapOut(
        credit_code=ent,
        enterprise_name=await supervision.enterprise_name(conn, credit_code=ent),
        year=cap.year,
        cap=cap.cap,
        counted=cap.counted,
        remaining=cap.remaining,
        inspections=[YearInspectionOut.model_validate(r, from_attributes=True) for r in rows],
    )
