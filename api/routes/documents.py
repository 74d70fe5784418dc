"""Enforcement documents (执法文书) as printable HTML or PDF (CJK font embedded): staff, or the
enterprise the document is addressed to."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, Response

from api.common import IdPath
from api.deps import ConnDep, PoliciesDep, PrincipalDep, ensure_enterprise_access
from api.documents_pdf import render_pdf
from api.errors import ERROR_RESPONSES
from api.routes.workbench import FindingId
from api.security_headers import PRINT_CSP
from domain.clock import utcnow
from domain.documents import Document, to_html
from services import documents as service
from storage import findings, inspections

router = APIRouter(tags=["documents"], responses=ERROR_RESPONSES)

FILE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/html": {}, "application/pdf": {}}},
}
Format = Annotated[Literal["html", "pdf"], Query(description="printable HTML or PDF")]


async def document_response(doc: Document, fmt: str) -> Response:
    """The document as printable HTML (its own CSP) or as a PDF download."""
    name = quote(f"{doc.title}-{doc.doc_no}")
    if fmt == "html":
        return HTMLResponse(to_html(doc), headers={"Content-Security-Policy": PRINT_CSP})
    data = await asyncio.to_thread(render_pdf, doc)
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}.pdf"},
    )


@router.get(
    "/api/v1/inspections/{inspection_id}/documents/{kind}",
    response_class=Response,
    responses=FILE_RESPONSES,
)
async def inspection_document(
    inspection_id: IdPath,
    kind: Annotated[
        str,
        Path(
            max_length=40,
            description="inspection_record | rectification_order | reinspection_opinion",
        ),
    ],
    principal: PrincipalDep,
    conn: ConnDep,
    policies: PoliciesDep,
    format: Format = "html",
) -> Response:
    """现场检查记录, 责令限期整改指令书 or 整改复查意见书 of an inspection, listing every finding's
    basis, cause and measure."""
    record = await inspections.get_inspection(conn, inspection_id=inspection_id)
    ensure_enterprise_access(principal, record.credit_code)
    doc = await service.for_inspection(
        conn, inspection_id=inspection_id, kind=kind, documents=policies.documents, now=utcnow()
    )
    return await document_response(doc, format)


@router.get(
    "/api/v1/findings/{finding_id}/documents/no_penalty_decision",
    response_class=Response,
    responses=FILE_RESPONSES,
)
async def no_penalty_document(
    finding_id: FindingId,
    principal: PrincipalDep,
    conn: ConnDep,
    policies: PoliciesDep,
    format: Format = "html",
) -> Response:
    """不予行政处罚决定书 of a finding decided 不予处罚 or 首违不罚."""
    row = await findings.get(conn, finding_id=finding_id)
    ensure_enterprise_access(principal, row.enterprise_id)
    doc = await service.no_penalty_decision(
        conn, finding_id=finding_id, documents=policies.documents, now=utcnow()
    )
    return await document_response(doc, format)
