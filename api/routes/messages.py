"""/public/v1/messages: the catalogue's vocabulary for the pages (terms, states, reasons)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from domain.i18n import CATALOGUES, ZH

router = APIRouter(prefix="/public/v1", tags=["public"])

#: Only vocabulary goes to the browser; whole texts (alarms, errors) are rendered server-side.
_PREFIXES = ("term.", "common.")


class MessagesOut(BaseModel):
    """Catalogue entries by code for one language (zh-CN fills any gap)."""

    lang: str
    messages: dict[str, str]


def _vocabulary(lang: str) -> dict[str, str]:
    merged = {**CATALOGUES[ZH], **CATALOGUES[lang]}
    return {k: v for k, v in sorted(merged.items()) if k.startswith(_PREFIXES)}


@router.get("/messages", response_model=MessagesOut)
async def messages(
    response: Response,
    lang: Annotated[Literal["zh-CN", "en"], Query()] = "zh-CN",
) -> MessagesOut:
    """Vocabulary of the message catalogue (docs/i18n.md) for the dashboard and public pages."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return MessagesOut(lang=lang, messages=_vocabulary(lang))
