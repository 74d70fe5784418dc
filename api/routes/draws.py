"""Draws for staff: list, detail with teams and exclusions, witnessed draw, document, lists."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.common import IdPath, Page, PagingDep, client_ip
from api.deps import ConnDep, Staff, require_roles
from api.draw_lists import notices_page
from api.draw_models import (
    DrawDetail,
    DrawSummary,
    People,
    PublicValueIn,
    audit_summary,
    detail,
    people_of,
    summary,
)
from api.errors import ERROR_RESPONSES
from api.security_headers import PRINT_CSP
from domain.inspection_list import list_rows
from domain.tabular_export import csv_bytes, xlsx_bytes
from domain.users import Principal, Role
from services import draw_lists, plans
from services.changes import Actor
from storage import draws, inspection_results

router = APIRouter(prefix="/api/v1/draws", tags=["draws"], responses=ERROR_RESPONSES)

Editor = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR))]
DrawState = Literal["frozen", "drawn"]
FILE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
            "text/html": {"schema": {"type": "string"}},
        },
        "description": "the inspection lists",
    }
}
JSON_FILE: dict[int | str, dict[str, object]] = {
    200: {"content": {"application/json": {"schema": {"type": "object"}}}, "description": "JSON"}
}


async def load_detail(
    conn: ConnDep, draw_id: int, *, document_url: str, disclose: bool, staff: bool = False
) -> DrawDetail:
    """A draw with selections, teams (pseudonyms; names and certificate numbers when
    `disclose`), and exclusions."""
    record = await draws.get_draw(conn, draw_id=draw_id)
    selections = await draws.selections(conn, draw_id=draw_id)
    exclusions = await draws.exclusions(conn, draw_id=draw_id)
    alias = {o: a for a, o in (await draws.pseudonyms(conn, draw_id=draw_id)).items()}
    ids = sorted({*people_of(selections, exclusions), *alias})
    names = await inspection_results.officer_names(conn, ids=ids)
    people = People(names, alias, disclose, staff)
    return detail(record, selections, exclusions, people, document_url=document_url)


@router.get("", response_model=Page[DrawSummary])
async def list_draws(
    _: Staff,
    conn: ConnDep,
    paging: PagingDep,
    state: DrawState | None = None,
    plan_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[DrawSummary]:
    """Draws, newest first."""
    records = await draws.list_draws(
        conn, state=state, plan_id=plan_id, limit=paging.limit, offset=paging.offset
    )
    total = await inspection_results.count_draws(conn, state=state, plan_id=plan_id)
    return Page[DrawSummary](
        items=[summary(d) for d in records], total=total, limit=paging.limit, offset=paging.offset
    )


@router.get("/{draw_id}", response_model=DrawDetail)
async def get_draw(draw_id: IdPath, _: Staff, conn: ConnDep) -> DrawDetail:
    """A draw: selected enterprises, teams, excluded candidates with reasons."""
    return await load_detail(
        conn,
        draw_id,
        document_url=f"/api/v1/draws/{draw_id}/document",
        disclose=True,
        staff=True,
    )


@router.post("/{draw_id}/draw", response_model=DrawSummary)
async def witnessed_draw(
    draw_id: IdPath, body: PublicValueIn, editor: Editor, conn: ConnDep, request: Request
) -> DrawSummary:
    """Draw a frozen record with the public value read out at a witnessed session."""
    record = await plans.witnessed_draw(
        conn,
        draw_id=draw_id,
        public_value=body.public_value,
        witness_secrets=body.witness_bytes(),
        audit_after=audit_summary,
        actor=Actor(editor, client_ip(request)),
    )
    return summary(record)


@router.get("/{draw_id}/document", response_class=Response, responses=JSON_FILE)
async def draw_document(draw_id: IdPath, _: Staff, conn: ConnDep) -> Response:
    """The canonical record that `safewatch verify-draw` and the verifier script check."""
    data = await draws.document(conn, draw_id=draw_id)
    return Response(
        data,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="draw-{draw_id}.json"'},
    )


@router.get("/{draw_id}/lists", response_class=Response, responses=FILE_RESPONSES)
async def inspection_lists(
    draw_id: IdPath,
    _: Staff,
    conn: ConnDep,
    format: Literal["csv", "xlsx", "html"] = "html",
    authority: Annotated[str, Query(max_length=100)] = "应急管理局",
    prefix: Annotated[str, Query(max_length=50, description="notice number prefix")] = "抽查",
) -> Response:
    """Inspection lists of every staffed enterprise: CSV, XLSX or printable task notices."""
    lists = await draw_lists.inspection_lists(conn, draw_id=draw_id)
    name = f"draw-{draw_id}-lists"
    if format == "html":
        notices = await draw_lists.task_notices(
            conn, draw_id=draw_id, authority=authority, prefix=prefix
        )
        return HTMLResponse(
            notices_page(notices, title=name), headers={"Content-Security-Policy": PRINT_CSP}
        )
    header, rows = list_rows(lists)
    if format == "csv":
        data, media = csv_bytes(header, rows), "text/csv; charset=utf-8"
    else:
        data = await asyncio.to_thread(xlsx_bytes, header, rows, title="检查清单")
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        data,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{format}"'},
    )
