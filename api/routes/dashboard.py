"""The dashboard: its pages and static assets, and the status board snapshot."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from api.deps import ConnDep, PrincipalDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.http_cache import STATIC_FILES
from domain.clock import utcnow
from domain.credit_code import credit_code_problem
from domain.errors import NotFound, ValidationFailed
from domain.i18n import msg
from domain.users import Role
from storage import board, enterprises, live

router = APIRouter(tags=["dashboard"], responses=ERROR_RESPONSES)

STATIC = Path(__file__).resolve().parent.parent / "static"
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
ASSET = re.compile(r"^[a-z0-9_-]+(?:/[a-z0-9_-]+)*\.(?:js|css|html|svg|png)$")
MAX_CODES = 200


class BoardSnapshot(BaseModel):
    """Every enterprise the caller may see, as compact rows, with filter facets."""

    live_id: int = Field(description="resume the live feed after this id")
    generated_at: str
    columns: list[str]
    facets: dict[str, dict[str, int]]
    rows: list[list[Any]]


def _page(request: Request, name: str) -> Response:
    return STATIC_FILES.response(request, STATIC / name, media_type=CONTENT_TYPES[".html"])


@router.get("/", include_in_schema=False)
async def root() -> RedirectResponse:
    """The dashboard lives under /ui/."""
    return RedirectResponse("/ui/")


@router.get("/ui/", include_in_schema=False)
async def dashboard_page(request: Request) -> Response:
    """The duty-staff dashboard (a single page; hash routes)."""
    return _page(request, "index.html")


@router.get("/ui/m/", include_in_schema=False)
async def portal_page(request: Request) -> Response:
    """The enterprise portal (企业端), mobile first: report, commit, inbox, licences."""
    return _page(request, "m.html")


@router.get("/public/", include_in_schema=False)
async def public_page(request: Request) -> Response:
    """Published draws and results, for everyone."""
    return _page(request, "public.html")


@router.get("/static/{name:path}", include_in_schema=False)
async def asset(name: str, request: Request) -> Response:
    """A dashboard asset shipped in the package (never a path taken as is from the request)."""
    if not ASSET.match(name):
        raise NotFound(msg("page.asset_not_found"))
    path = (STATIC / name).resolve()
    if not path.is_relative_to(STATIC) or not path.is_file():
        raise NotFound(msg("page.asset_not_found"))
    # Unversioned names: revalidate every time, answered by a 304 (strong ETag) when unchanged.
    return STATIC_FILES.response(request, path, media_type=CONTENT_TYPES[path.suffix])


@router.get("/api/v1/dashboard/board", response_model=BoardSnapshot)
async def board_snapshot(
    principal: PrincipalDep,
    conn: ConnDep,
    settings: SettingsDep,
    codes: Annotated[
        str | None, Query(max_length=MAX_CODES * 19, description="comma-separated credit codes")
    ] = None,
) -> Response:
    """The status board: directory attributes, state, presence, open alarms, special operations."""
    wanted = [c for c in (codes or "").split(",") if c] or None
    if wanted is not None:
        if len(wanted) > MAX_CODES:
            raise ValidationFailed(msg("query.too_many_codes", max_codes=MAX_CODES))
        bad = [c for c in wanted if credit_code_problem(c)]
        if bad:
            raise ValidationFailed(
                msg("query.credit_code_invalid", bad=bad[0]), details={"codes": bad[:10]}
            )
    only = None
    if principal.role is Role.ENTERPRISE:
        only = principal.enterprise_id or "-"
    live_id = await live.latest_id(conn)
    now = utcnow()
    since = now - timedelta(seconds=settings.presence_timeout_s)
    rows = await board.rows_json(conn, codes=wanted, only=only, online_since=since)
    facets = await enterprises.facets(conn) if wanted is None and only is None else {}
    head = json.dumps(
        {
            "live_id": live_id,
            "generated_at": now.isoformat(),
            "columns": list(board.COLUMNS),
            "facets": facets,
        },
        ensure_ascii=False,
    )
    body = head[:-1] + ', "rows": ' + rows + "}"
    return Response(body, media_type="application/json")
