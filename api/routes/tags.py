"""The telemetry tag registry of an enterprise: list, create/update, delete, CSV/XLSX import."""

from __future__ import annotations

import functools
import itertools
import math
import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, UploadFile, status
from psycopg import AsyncConnection
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from api.common import client_ip
from api.deps import ConnDep, LangDep
from api.errors import ERROR_RESPONSES
from api.routes.monitoring_common import Handler, VisibleEnt
from domain.errors import NotFound
from domain.i18n import ZH, Message, msg, render
from domain.tabular import UPLOAD_LIMITS, read_table
from services import tags
from services.changes import Actor
from services.imports import ParsedUpload, run_import
from storage import enterprises, telemetry_tags

router = APIRouter(prefix="/api/v1/enterprises", tags=["telemetry tags"], responses=ERROR_RESPONSES)

TAG_PATTERN = r"^[A-Za-z0-9_.:/#-]{1,64}$"
TagPath = Annotated[str, Path(pattern=TAG_PATTERN, description="tag name, e.g. V101.LT")]


class TagIn(BaseModel):
    """A tag's registry entry: unit, limits (HH ≥ H > L ≥ LL), deadband, delay, staleness."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "level",
                    "unit": "m",
                    "description": "V101 储罐液位",
                    "hh": 9.0,
                    "h": 8.5,
                    "l": 1.0,
                    "ll": 0.5,
                    "deadband": 0.1,
                    "delay_s": 10,
                    "stale_after_s": 300,
                    "enabled": True,
                    "range_min": 0.0,
                    "range_max": 10.0,
                }
            ]
        },
    )

    kind: str = Field(default="analog", min_length=1, max_length=32)
    unit: str = Field(default="", max_length=16)
    description: str = Field(default="", max_length=200)
    hh: float | None = Field(default=None, allow_inf_nan=False)
    h: float | None = Field(default=None, allow_inf_nan=False)
    l: float | None = Field(default=None, allow_inf_nan=False)  # noqa: E741 - industry name
    ll: float | None = Field(default=None, allow_inf_nan=False)
    deadband: float = Field(default=0.0, ge=0, le=1e9, allow_inf_nan=False)
    delay_s: float = Field(default=0.0, ge=0, le=3600, allow_inf_nan=False)
    stale_after_s: int | None = Field(default=None, ge=10, le=7 * 86400)
    enabled: bool = True
    range_min: float | None = Field(
        default=None,
        ge=-1e12,
        le=1e12,
        allow_inf_nan=False,
        description="measuring range (量程), lower end: lower readings are refused at the ingest",
    )
    range_max: float | None = Field(
        default=None,
        ge=-1e12,
        le=1e12,
        allow_inf_nan=False,
        description="measuring range (量程), upper end: higher readings are refused at the ingest",
    )

    @model_validator(mode="after")
    def _ordered(self) -> TagIn:
        chain = [("hh", self.hh), ("h", self.h), ("l", self.l), ("ll", self.ll)]
        present = [(n, v) for n, v in chain if v is not None]
        for (n1, v1), (n2, v2) in itertools.pairwise(present):
            strict = n1 in ("hh", "h") and n2 in ("l", "ll")
            if v1 < v2 or (strict and v1 == v2):
                raise ValueError(f"limits must satisfy HH ≥ H > L ≥ LL ({n1}={v1}, {n2}={v2})")
        if any(v is not None and abs(v) > 1e12 for _, v in chain):
            raise ValueError("limits must be within ±1e12")
        if (
            self.range_min is not None
            and self.range_max is not None
            and self.range_min >= self.range_max
        ):
            raise ValueError(
                f"range_min must be below range_max ({self.range_min} ≥ {self.range_max})"
            )
        return self


class TagOut(TagIn):
    """A registry entry with its current alarm level and last reading."""

    model_config = ConfigDict(extra="forbid")

    enterprise_id: str
    tag: str
    level: str = Field(description="normal | H | HH | L | LL")
    last_value: float | None
    last_ts: datetime | None
    updated_at: datetime


class TagList(BaseModel):
    """The registry of one enterprise."""

    items: list[TagOut]


def _out(t: telemetry_tags.Tag) -> TagOut:
    return TagOut(
        enterprise_id=t.enterprise_id,
        tag=t.tag,
        kind=t.kind,
        unit=t.unit,
        description=t.description,
        hh=t.hh,
        h=t.h,
        l=t.l,
        ll=t.ll,
        deadband=t.deadband,
        delay_s=t.delay_s,
        stale_after_s=t.stale_after_s,
        enabled=t.enabled,
        range_min=t.range_min,
        range_max=t.range_max,
        level=t.level,
        last_value=t.last_value if t.last_value is None or math.isfinite(t.last_value) else None,
        last_ts=t.last_ts,
        updated_at=t.updated_at,
    )


async def _require(conn: ConnDep, ent: str) -> None:
    if await enterprises.enterprise_name(conn, code=ent) is None:
        raise NotFound(msg("enterprise.not_in_directory", code=ent))


@router.get("/{ent}/tags", response_model=TagList)
async def list_tags(ent: VisibleEnt, conn: ConnDep) -> TagList:
    """Every registered tag of the enterprise."""
    await _require(conn, ent)
    return TagList(items=[_out(t) for t in await telemetry_tags.list_tags(conn, ent=ent)])


def _snapshot(t: telemetry_tags.Tag) -> dict[str, Any]:
    return _out(t).model_dump(mode="json")


def _row(ent: str, tag: str, body: TagIn) -> dict[str, Any]:
    return {"enterprise_id": ent, "tag": tag, **body.model_dump()}


@router.put("/{ent}/tags/{tag}", response_model=TagOut)
async def put_tag(
    ent: VisibleEnt,
    tag: TagPath,
    body: TagIn,
    principal: Handler,
    conn: ConnDep,
    request: Request,
) -> TagOut:
    """Create or replace a tag's registry entry."""
    await _require(conn, ent)
    after = await tags.put(
        conn,
        ent=ent,
        tag=tag,
        fields=body.model_dump(mode="json"),
        snapshot=_snapshot,
        actor=Actor(principal, client_ip(request)),
    )
    return _out(after)


@router.delete("/{ent}/tags/{tag}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_tag(
    ent: VisibleEnt, tag: TagPath, principal: Handler, conn: ConnDep, request: Request
) -> None:
    """Remove a tag from the registry (its readings stay)."""
    await tags.delete(
        conn, ent=ent, tag=tag, snapshot=_snapshot, actor=Actor(principal, client_ip(request))
    )


class RowError(BaseModel):
    """Why one row of an import was not stored."""

    row: int
    tag: str | None
    message: str


class TagImportReport(BaseModel):
    """What an import did: valid rows are stored, bad rows are listed."""

    rows: int
    created: int
    updated: int
    rejected: int
    errors: list[RowError]


COLUMNS = (
    "tag",
    "kind",
    "unit",
    "description",
    "hh",
    "h",
    "l",
    "ll",
    "deadband",
    "delay_s",
    "stale_after_s",
    "enabled",
    "range_min",
    "range_max",
)
_NUMBERS = {"hh", "h", "l", "ll", "deadband", "delay_s", "stale_after_s", "range_min", "range_max"}
_TRUE = {"1", "true", "yes", "y", "是", "启用"}
_FALSE = {"0", "false", "no", "n", "否", "停用"}


class _RowProblem(Exception):
    """Why one row of a tag import is refused (a catalogue message)."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.code)
        self.message = message


def parse_tags(
    data: bytes, filename: str, lang: str = ZH
) -> ParsedUpload[tuple[str, TagIn], RowError]:
    """Rows of an uploaded registry → (valid (tag, entry) pairs, per-row errors in the
    reader's `lang`, row count)."""
    table = read_table(data, filename)
    valid: list[tuple[str, TagIn]] = []
    errors: list[RowError] = []
    seen: set[str] = set()
    for number, cells in table:
        unknown = sorted(set(cells) - set(COLUMNS))
        tag = cells.get("tag", "").strip()
        if unknown:
            problem = msg("tag_import.columns_unknown", columns=", ".join(unknown))
            errors.append(RowError(row=number, tag=tag or None, message=render(problem, lang)))
            continue
        try:
            if not tag:
                raise _RowProblem(msg("tag_import.tag_empty"))
            if tag in seen:
                raise _RowProblem(msg("tag_import.tag_repeated", tag=tag))
            fields: dict[str, Any] = {}
            for name, text in cells.items():
                text = text.strip()
                if name == "tag" or text == "":
                    continue
                if name == "enabled":
                    if text.lower() not in _TRUE | _FALSE:
                        allowed = "、".join(sorted(_TRUE | _FALSE))
                        raise _RowProblem(msg("tag_import.enabled", allowed=allowed))
                    fields[name] = text.lower() in _TRUE
                elif name in _NUMBERS:
                    try:
                        number_ = float(text)
                    except ValueError:
                        raise _RowProblem(
                            msg("tag_import.not_a_number", column=name, value=text)
                        ) from None
                    fields[name] = number_ if name != "stale_after_s" else int(number_)
                else:
                    fields[name] = text
            if not re.fullmatch(TAG_PATTERN, tag):
                raise _RowProblem(msg("tag_import.tag_chars", tag=tag))
            entry = TagIn.model_validate(fields)
        except (_RowProblem, ValidationError) as exc:
            problem = (
                msg(
                    "tag_import.invalid",
                    detail="; ".join(
                        f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
                    ),
                )
                if isinstance(exc, ValidationError)
                else exc.message
            )
            text = render(problem, lang)[:500]
            errors.append(RowError(row=number, tag=tag or None, message=text))
            continue
        seen.add(tag)
        valid.append((tag, entry))
    return ParsedUpload(valid, errors, [], len(table), rejected=len(errors))


@router.post("/{ent}/tags/import", response_model=TagImportReport)
async def import_tags(
    ent: VisibleEnt,
    file: UploadFile,
    principal: Handler,
    conn: ConnDep,
    request: Request,
    lang: LangDep,
) -> TagImportReport:
    """Import a registry from CSV (UTF-8 or GB18030) or XLSX with the columns
    tag, kind, unit, description, hh, h, l, ll, deadband, delay_s, stale_after_s, enabled,
    range_min, range_max (the measuring range; optional)."""
    await _require(conn, ent)

    async def store(c: AsyncConnection[Any], valid: list[tuple[str, TagIn]]) -> tuple[int, int]:
        created = await telemetry_tags.upsert_tags(c, rows=[_row(ent, t, e) for t, e in valid])
        return created, len(valid) - created

    done = await run_import(
        conn,
        data=await file.read(UPLOAD_LIMITS.max_bytes + 1),
        filename=file.filename or "",
        parse=functools.partial(parse_tags, lang=lang),
        store=store,
        dry_run=False,
        actor=Actor(principal, client_ip(request)),
        action="tag.import",
        target=f"enterprise:{ent}",
        kind="tag",
        enterprise_id=ent,
    )
    return TagImportReport(
        rows=done.parsed.rows,
        created=done.created,
        updated=done.updated,
        rejected=done.parsed.rejected,
        errors=done.parsed.errors,
    )
