"""The enterprise directory: list with filters, create, read, change, import CSV/XLSX."""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, UploadFile

from api.common import Page, PagingDep, client_ip
from api.deps import ConnDep, LangDep, PrincipalDep, ensure_enterprise_access, require_roles
from api.directory_import import import_upload, parse_enterprise_upload
from api.enterprise_models import (
    EnterpriseIn,
    EnterpriseOut,
    EnterprisePatch,
    ImportReport,
    OperatingState,
    RiskColour,
)
from api.errors import ERROR_RESPONSES
from domain.credit_code import validate_credit_code
from domain.errors import NotFound
from domain.i18n import msg
from domain.users import Principal, Role
from services import directory as services
from services.changes import Actor
from storage import enterprises
from storage.enterprises import EnterpriseRecord

router = APIRouter(prefix="/api/v1/enterprises", tags=["enterprises"], responses=ERROR_RESPONSES)

Editor = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR))]


def out(record: EnterpriseRecord) -> EnterpriseOut:
    """The HTTP shape of a directory row."""
    return EnterpriseOut.model_validate(
        record.fields() | {"created_at": record.created_at, "updated_at": record.updated_at}
    )


def _jsonable(record: EnterpriseRecord) -> dict[str, Any]:
    return out(record).model_dump(mode="json", exclude={"created_at", "updated_at"})


async def load_visible(conn: ConnDep, principal: Principal, ent: str) -> EnterpriseRecord:
    """Validate the code (422), check the caller may see it (403), load it (404)."""
    code = validate_credit_code(ent)
    ensure_enterprise_access(principal, code)
    record = await enterprises.get(conn, credit_code=code)
    if record is None:
        raise NotFound(msg("enterprise.not_in_directory", code=code))
    return record


@router.get("", response_model=Page[EnterpriseOut])
async def list_enterprises(
    principal: PrincipalDep,
    conn: ConnDep,
    paging: PagingDep,
    county: Annotated[str | None, Query(max_length=50)] = None,
    sector: Annotated[str | None, Query(max_length=50)] = None,
    risk_colour: RiskColour | None = None,
    state: OperatingState | None = None,
    high_risk: bool | None = None,
    deregistered: bool | None = None,
    q: Annotated[str | None, Query(max_length=100, description="part of name or code")] = None,
) -> Page[EnterpriseOut]:
    """Directory entries by credit code; an enterprise account sees only its own."""
    # an enterprise account is confined to its own code (an unbound one sees nothing)
    own = (principal.enterprise_id or "-") if principal.role is Role.ENTERPRISE else None
    rows, total = await enterprises.search(
        conn,
        county=county,
        sector=sector,
        risk_colour=risk_colour,
        state=state,
        high_risk=high_risk,
        deregistered=deregistered,
        q=q,
        credit_code=own,
        limit=paging.limit,
        offset=paging.offset,
    )
    return Page[EnterpriseOut](
        items=[out(r) for r in rows], total=total, limit=paging.limit, offset=paging.offset
    )


@router.post("", response_model=EnterpriseOut, status_code=201)
async def create_enterprise(
    body: EnterpriseIn, editor: Editor, conn: ConnDep, request: Request
) -> EnterpriseOut:
    """Add an enterprise (422 naming the check character when the code fails it; 409 if known)."""
    code = validate_credit_code(body.credit_code)
    record = await services.create_enterprise(
        conn,
        values=body.model_dump(mode="json") | {"credit_code": code},
        snapshot=_jsonable,
        actor=Actor(editor, client_ip(request)),
    )
    return out(record)


@router.post("/import", response_model=ImportReport)
async def import_enterprises(
    file: UploadFile,
    editor: Editor,
    conn: ConnDep,
    request: Request,
    lang: LangDep,
    dry_run: Annotated[bool, Query(description="check only, store nothing")] = False,
) -> ImportReport:
    """Import CSV (UTF-8 or GB18030) or XLSX; valid rows are stored by code, bad rows listed."""
    return await import_upload(
        conn,
        file=file,
        dry_run=dry_run,
        actor=Actor(editor, client_ip(request)),
        parse=functools.partial(parse_enterprise_upload, lang=lang),
        store=lambda c, rows: enterprises.upsert_many(c, rows=rows),
        action="enterprise.import",
        target="enterprise:*",
        kind="directory",
    )


@router.get("/{ent}", response_model=EnterpriseOut)
async def get_enterprise(ent: str, principal: PrincipalDep, conn: ConnDep) -> EnterpriseOut:
    """One enterprise (an enterprise account: only its own)."""
    return out(await load_visible(conn, principal, ent))


@router.patch("/{ent}", response_model=EnterpriseOut)
async def update_enterprise(
    ent: str, body: EnterprisePatch, editor: Editor, conn: ConnDep, request: Request
) -> EnterpriseOut:
    """Change an enterprise's attributes (the credit code itself never changes)."""
    record = await services.update_enterprise(
        conn,
        before=await load_visible(conn, editor, ent),
        changes=body.model_dump(mode="json", exclude_unset=True),
        snapshot=_jsonable,
        actor=Actor(editor, client_ip(request)),
    )
    return out(record)
