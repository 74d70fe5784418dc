"""The directory of enforcement officers and experts (experts are marked auxiliary)."""

from __future__ import annotations

import functools
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.common import Page, PagingDep, client_ip
from api.deps import ConnDep, LangDep, Staff, require_roles
from api.directory_import import import_upload, parse_officer_upload
from api.enterprise_models import ImportReport
from api.errors import ERROR_RESPONSES
from domain.credit_code import credit_code_problem
from domain.directory import Conflict, EnterpriseCode, Officer, OfficerId
from domain.errors import ValidationFailed
from domain.i18n import msg
from domain.users import Principal, Role
from services import directory as services
from services.changes import Actor
from storage import directory, inspection_results

router = APIRouter(prefix="/api/v1/inspectors", tags=["inspectors"], responses=ERROR_RESPONSES)

Editor = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR))]
OFFICER_ID = r"^[A-Za-z0-9_.:-]{1,64}$"


class ConflictIn(BaseModel):
    """An enterprise the officer must recuse from, and why."""

    model_config = ConfigDict(extra="forbid")
    credit_code: str = Field(max_length=40)
    reason: str = Field(default="", max_length=200)

    @field_validator("credit_code")
    @classmethod
    def _code(cls, value: str) -> str:
        problem = credit_code_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class InspectorIn(BaseModel):
    """An officer (or an expert: `auxiliary`, never counted as an officer, never a leader)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {"officer_id": "ZF-001", "name": "李执法", "department": "应急管理局",
                 "county": "上城区", "certificate_no": "浙A-0001",
                 "certificate_valid_from": "2024-01-01", "certificate_valid_to": "2028-12-31"}
            ]
        },
    )  # fmt: skip
    officer_id: str = Field(pattern=OFFICER_ID)
    name: str = Field(min_length=1, max_length=100)
    department: str = Field(min_length=1, max_length=100, pattern=r"^[^|]+$")
    county: str = Field(min_length=1, max_length=50)
    certificate_no: str = Field(default="", max_length=64)
    certificate_valid_from: date | None = None
    certificate_valid_to: date | None = None
    active: bool = True
    auxiliary: bool = False
    conflicts: list[ConflictIn] = Field(default_factory=list, max_length=500)


class InspectorOut(InspectorIn):
    """An officer or expert with declared conflicts."""

    model_config = ConfigDict(extra="ignore")


def _domain(body: InspectorIn) -> Officer:
    if (
        body.certificate_valid_from
        and body.certificate_valid_to
        and body.certificate_valid_from > body.certificate_valid_to
    ):
        raise ValidationFailed(msg("officer.certificate_dates"))
    oid = OfficerId(body.officer_id)
    return Officer(
        officer_id=oid,
        name=body.name,
        department=body.department,
        county=body.county,
        certificate_no=body.certificate_no,
        certificate_valid_from=body.certificate_valid_from,
        certificate_valid_to=body.certificate_valid_to,
        active=body.active,
        auxiliary=body.auxiliary,
        conflicts=tuple(
            Conflict(oid, EnterpriseCode(c.credit_code), c.reason) for c in body.conflicts
        ),
    )


def out(o: Officer) -> InspectorOut:
    """The HTTP shape of an officer."""
    return InspectorOut(
        officer_id=o.officer_id,
        name=o.name,
        department=o.department,
        county=o.county,
        certificate_no=o.certificate_no,
        certificate_valid_from=o.certificate_valid_from,
        certificate_valid_to=o.certificate_valid_to,
        active=o.active,
        auxiliary=o.auxiliary,
        conflicts=[ConflictIn(credit_code=c.credit_code, reason=c.reason) for c in o.conflicts],
    )


@router.get("", response_model=Page[InspectorOut])
async def list_inspectors(
    _: Staff,
    conn: ConnDep,
    paging: PagingDep,
    department: Annotated[str | None, Query(max_length=100)] = None,
    active: bool | None = None,
) -> Page[InspectorOut]:
    """Officers and experts by id."""
    rows = await directory.list_officers(
        conn, department=department, active=active, limit=paging.limit, offset=paging.offset
    )
    total = await inspection_results.count_officers(conn, department=department, active=active)
    return Page[InspectorOut](
        items=[out(o) for o in rows], total=total, limit=paging.limit, offset=paging.offset
    )


@router.post("", response_model=InspectorOut)
async def upsert_inspector(
    body: InspectorIn, editor: Editor, conn: ConnDep, request: Request
) -> InspectorOut:
    """Create or replace an officer or expert by id (with its declared conflicts)."""
    officer = _domain(body)
    await services.upsert_officer(
        conn,
        officer=officer,
        after=body.model_dump(mode="json"),
        actor=Actor(editor, client_ip(request)),
    )
    return out(await directory.get_officer(conn, officer_id=officer.officer_id))


@router.get("/{officer_id}", response_model=InspectorOut)
async def get_inspector(
    officer_id: Annotated[str, Path(pattern=OFFICER_ID)], _: Staff, conn: ConnDep
) -> InspectorOut:
    """One officer or expert."""
    return out(await directory.get_officer(conn, officer_id=officer_id))


@router.post("/import", response_model=ImportReport)
async def import_inspectors(
    file: UploadFile,
    editor: Editor,
    conn: ConnDep,
    request: Request,
    lang: LangDep,
    dry_run: Annotated[bool, Query(description="check only, store nothing")] = False,
) -> ImportReport:
    """Import CSV/XLSX of officers and experts; good rows kept by id, bad rows listed."""
    return await import_upload(
        conn,
        file=file,
        dry_run=dry_run,
        actor=Actor(editor, client_ip(request)),
        parse=functools.partial(parse_officer_upload, lang=lang),
        store=lambda c, officers: directory.upsert_officers(c, officers=officers),
        action="inspector.import",
        target="inspector:*",
        kind="inspector",
    )
