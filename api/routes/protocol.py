"""/public/v1/protocol: the site protocol's JSON Schemas, for device vendors (no token).

The files are generated from the service's models by `safewatch protocol-schema` and committed in
api/protocol_schema/; the names are an allow-list read from its index, never a path taken from
the request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

from api.errors import ERROR_RESPONSES
from api.http_cache import STATIC_FILES
from domain.errors import NotFound
from domain.i18n import msg

router = APIRouter(prefix="/public/v1/protocol", tags=["public"], responses=ERROR_RESPONSES)

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "protocol_schema"
INDEX = SCHEMA_DIR / "index.json"
SCHEMA_TYPE = "application/schema+json"
JSON_FILE: dict[int | str, dict[str, object]] = {
    200: {"content": {SCHEMA_TYPE: {"schema": {"type": "object"}}}, "description": "schema"},
    304: {"description": "unchanged (If-None-Match)"},
}


def _names() -> frozenset[str]:
    return frozenset(json.loads(INDEX.read_text(encoding="utf-8")))


@router.get("/schemas", responses={304: {"description": "unchanged (If-None-Match)"}})
async def protocol_schemas(request: Request) -> Response:
    """Every uplink and downlink of the site protocol: direction, topic, title and the name of
    its JSON Schema (GET …/schemas/{name})."""
    return STATIC_FILES.response(request, INDEX, media_type="application/json")


@router.get("/schemas/{name}", response_class=Response, responses=JSON_FILE)
async def protocol_schema(
    request: Request,
    name: Annotated[
        str,
        PathParam(
            max_length=32,
            description="event, telemetry, commitment, presence, ack, guidance, notice, reject, "
            "receipt, video_offer, video_hangup, video_request, video_answer",
        ),
    ],
) -> Response:
    """The JSON Schema (draft 2020-12) of one message, generated from the service's models."""
    if name not in _names():
        raise NotFound(msg("protocol.message_unknown", name=name[:32]))
    return STATIC_FILES.response(
        request, SCHEMA_DIR / f"{name}.schema.json", media_type=SCHEMA_TYPE
    )
