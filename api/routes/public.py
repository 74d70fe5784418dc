"""/public/v1: no token. Published draws with everything needed to verify them, and results.

Every answer is built from an allow-list (the response models below): free text that staff or
enterprises typed (plan exclusion notes, declared conflicts, contacts, findings' causes) never
reaches a public answer; an exclusion is published by its reason code only.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from api.common import IdPath, Page, PagingDep
from api.deps import ConnDep, PoolDep, SettingsDep
from api.draw_models import DrawSummary, SelectedOut, summary
from api.errors import ERROR_RESPONSES
from api.http_cache import (
    IMMUTABLE,
    REVALIDATE,
    SHORT_PUBLIC,
    STATIC_FILES,
    ImmutableTags,
    cached,
    matches,
    not_modified,
    strong_etag,
)
from api.routes.draws import JSON_FILE, load_detail
from domain.clock import utcnow
from storage import draws, enforcement, inspection_results
from storage.errors import amapped_errors
from storage.inspection_results import PublicResult

router = APIRouter(prefix="/public/v1", tags=["public"], responses=ERROR_RESPONSES)

VERIFIER = Path(__file__).resolve().parents[2] / "domain" / "draw" / "verifier.py"
PY_FILE: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/x-python": {"schema": {"type": "string"}}}, "description": "script"},
    304: {"description": "unchanged (If-None-Match)"},
}
#: Conditional GETs: 304 when If-None-Match names the current strong ETag.
NOT_MODIFIED: dict[int | str, dict[str, object]] = {
    304: {"description": "unchanged (If-None-Match names the current ETag)"}
}
#: Final draw documents never change: their tags are remembered (a 304 without the database).
_DOCUMENT_TAGS = ImmutableTags()


class ResultOut(BaseModel):
    """A completed inspection as published, with its findings counted by outcome."""

    inspection_id: int
    credit_code: str
    enterprise_name: str
    county: str
    source: str
    draw_id: int | None = None
    plan_id: str | None = None
    period: str | None = None
    inspected_on: date | None = None
    findings: int
    guidance: int
    rectify: int
    penalty_procedure: int
    rectified: int


class PenaltyOut(BaseModel):
    """Administrative penalty information under publication."""

    id: int
    enterprise_id: str
    enterprise_name: str
    decision_no: str
    summary: str
    decided_on: date
    published_at: datetime
    publish_until: date


class PublicExcludedOut(BaseModel):
    """An exclusion as published: who, and the reason code (its free-text detail is internal)."""

    kind: str
    subject: str
    reason: str


class PublicDrawDetail(DrawSummary):
    """A published draw: selections and teams, exclusions by reason code, how to verify it."""

    selected: list[SelectedOut]
    excluded: list[PublicExcludedOut]
    document_url: str
    verifier_url: str = "/public/v1/verifier.py"


def _result(r: PublicResult) -> ResultOut:
    return ResultOut.model_validate(r, from_attributes=True)


@router.get("/draws", response_model=Page[DrawSummary])
async def public_draws(conn: ConnDep, paging: PagingDep) -> Page[DrawSummary]:
    """Published draws, newest first: frozen ones show the commitment, drawn ones the secret."""
    records = await draws.list_draws(conn, limit=paging.limit, offset=paging.offset)
    total = await inspection_results.count_draws(conn, state=None, plan_id=None)
    return Page[DrawSummary](
        items=[summary(d) for d in records], total=total, limit=paging.limit, offset=paging.offset
    )


@router.get("/draws/{draw_id}", response_model=PublicDrawDetail, responses=NOT_MODIFIED)
async def public_draw(
    draw_id: IdPath, conn: ConnDep, request: Request, settings: SettingsDep
) -> Response:
    """A published draw: selections, teams by the draw's pseudonyms (names and certificate
    numbers only where the bureau's 行政执法公示 setting publishes them), exclusions by reason
    code only (never their free-text notes), and the links to the document and the verifier
    script. Strong ETag; cached 5 minutes by shared caches once drawn."""
    found = await load_detail(
        conn,
        draw_id,
        document_url=f"/public/v1/draws/{draw_id}/document",
        disclose=settings.draw_disclose_officers,
    )
    policy = "public, max-age=300" if found.state == "drawn" else REVALIDATE
    body = PublicDrawDetail.model_validate(found.model_dump()).model_dump_json().encode()
    return cached(request, body, media_type="application/json", cache_control=policy)


@router.get(
    "/draws/{draw_id}/document", response_class=Response, responses=JSON_FILE | NOT_MODIFIED
)
async def public_document(draw_id: IdPath, pool: PoolDep, request: Request) -> Response:
    """The canonical draw record: `python verifier.py draw-N.json` re-derives every byte.
    Once drawn it never changes: immutable for caches, 304 on a matching If-None-Match."""
    known = _DOCUMENT_TAGS.get(draw_id)
    if known is not None and matches(request, known):
        return not_modified(known, IMMUTABLE)
    async with amapped_errors(), pool.connection() as conn:
        data, final = await draws.published_document(conn, draw_id=draw_id)
    tag = strong_etag(data)
    if final:
        _DOCUMENT_TAGS.put(draw_id, tag)
    return cached(
        request,
        data,
        media_type="application/json",
        cache_control=IMMUTABLE if final else REVALIDATE,
        etag=tag,
        headers={"Content-Disposition": f'attachment; filename="draw-{draw_id}.json"'},
    )


@router.get("/results", response_model=Page[ResultOut], responses=NOT_MODIFIED)
async def public_results(
    conn: ConnDep,
    paging: PagingDep,
    request: Request,
    draw_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    """Completed inspections and what they found, newest first (strong ETag, 60 s shared)."""
    rows, total = await inspection_results.public_results(
        conn, draw_id=draw_id, limit=paging.limit, offset=paging.offset
    )
    page = Page[ResultOut](
        items=[_result(r) for r in rows], total=total, limit=paging.limit, offset=paging.offset
    )
    body = page.model_dump_json().encode()
    return cached(request, body, media_type="application/json", cache_control=SHORT_PUBLIC)


@router.get("/penalties", response_model=Page[PenaltyOut])
async def public_penalties(
    conn: ConnDep, paging: PagingDep, settings: SettingsDep
) -> Page[PenaltyOut]:
    """Penalty information within its publication period."""
    today = utcnow().astimezone(settings.tz).date()
    rows = await enforcement.public_penalties(
        conn, today=today, limit=paging.limit, offset=paging.offset
    )
    return Page[PenaltyOut](
        items=[PenaltyOut.model_validate(r, from_attributes=True) for r in rows],
        total=await inspection_results.count_penalties(conn, today=today),
        limit=paging.limit,
        offset=paging.offset,
    )


@router.get("/verifier.py", response_class=Response, responses=PY_FILE)
async def verifier(request: Request) -> Response:
    """The stdlib-only verifier: `python3 verifier.py draw.json` exits 0 when it all re-derives."""
    return STATIC_FILES.response(
        request,
        VERIFIER,
        media_type="text/x-python; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="verifier.py"'},
    )
