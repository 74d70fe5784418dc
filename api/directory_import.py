"""An uploaded directory table (enterprises, officers) → storable rows, with the shared parser
of domain.imports, and the import routes' one pipeline call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any, TypeVar

from fastapi import UploadFile
from psycopg import AsyncConnection
from pydantic import ValidationError

from api.enterprise_models import EnterpriseFields, ImportReport, RowError
from domain.directory import Enterprise, Officer
from domain.errors import ValidationFailed
from domain.i18n import ZH, Message, msg, render
from domain.imports import HEADER_NOTES, Parsed, parse_enterprises, parse_officers
from domain.tabular import UPLOAD_LIMITS, read_table
from services.changes import Actor
from services.imports import ParsedUpload, run_import

Row = TypeVar("Row")

HAZARD_LEVELS = {"一级": 1, "二级": 2, "三级": 3, "四级": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def _header_problems(parsed: Parsed[Any], lang: str) -> tuple[list[RowError], list[RowError]]:
    """Split row-1 problems into fatal ones (missing columns) and warnings."""
    fatal: list[RowError] = []
    warnings: list[RowError] = []
    for e in parsed.errors:
        if e.row != 1:
            continue
        target = warnings if e.reason.code in HEADER_NOTES else fatal
        target.append(RowError(row=e.row, column=e.column, reason=render(e.reason, lang)))
    return fatal, warnings


def enterprise_values(ent: Enterprise) -> tuple[dict[str, Any] | None, Message | None]:
    """The storable fields of a parsed enterprise, or why its hazard level is not valid."""
    level_text = ent.major_hazard_level.strip()
    level = HAZARD_LEVELS.get(level_text) if level_text else None
    if level_text and level is None:
        return None, msg("import.hazard_level", value=level_text)
    values = {
        "credit_code": ent.credit_code,
        "name": ent.name,
        "county": ent.county,
        "address": ent.address,
        "sector": ent.sector,
        "risk_colour": ent.risk_colour,
        "credit_class": ent.credit_class,
        "standardisation_grade": ent.standardisation_grade or None,
        "major_hazard_level": level,
        "high_risk": ent.high_risk,
        "operating_state": ent.operating_state,
        "deregistered": ent.deregistered,
        "contacts": [asdict(c) for c in ent.contacts],
        "licences": [
            asdict(lic)
            | {
                "valid_from": lic.valid_from.isoformat() if lic.valid_from else None,
                "valid_to": lic.valid_to.isoformat() if lic.valid_to else None,
            }
            for lic in ent.licences
        ],
    }
    return values, None


def _problems(parsed: Parsed[Any], lang: str) -> tuple[list[RowError], list[RowError]]:
    """(row errors, header warnings) of a parsed table; ValidationFailed naming the missing
    required columns."""
    fatal, warnings = _header_problems(parsed, lang)
    if fatal:
        missing = [e.column for e in fatal]
        raise ValidationFailed(
            msg("import.columns_missing", missing=", ".join(missing)),
            details={"missing": missing, "problems": [e.model_dump() for e in fatal]},
        )
    errors = [
        RowError(row=e.row, column=e.column, reason=render(e.reason, lang))
        for e in parsed.errors
        if e.row != 1
    ]
    return errors, warnings


def parse_officer_upload(
    data: bytes, filename: str, lang: str = ZH
) -> ParsedUpload[Officer, RowError]:
    """Officers and experts of an uploaded CSV/XLSX table, with row errors and warnings (in
    the reader's `lang`)."""
    rows = read_table(data, filename)
    parsed = parse_officers(rows)
    errors, warnings = _problems(parsed, lang)
    return ParsedUpload(
        list(parsed.records), errors, warnings, len(rows), rejected=len({e.row for e in errors})
    )


def parse_enterprise_upload(
    data: bytes, filename: str, lang: str = ZH
) -> ParsedUpload[dict[str, Any], RowError]:
    """(valid rows, row errors, header warnings, rows read) of an uploaded CSV/XLSX table; the
    reasons in the reader's `lang`."""
    rows = read_table(data, filename)
    parsed = parse_enterprises(rows)
    errors, warnings = _problems(parsed, lang)
    row_of: dict[str, int] = parsed.extras.get("row_of", {})
    valid: list[dict[str, Any]] = []
    for ent in parsed.records:
        row = row_of.get(ent.credit_code, 0)
        values, problem = enterprise_values(ent)
        if values is None:
            reason = render(problem, lang) if problem is not None else ""
            errors.append(RowError(row=row, column="重大危险源等级", reason=reason))
            continue
        try:  # the same limits as the JSON API
            EnterpriseFields.model_validate({k: v for k, v in values.items() if k != "credit_code"})
        except ValidationError as exc:
            errors.extend(
                RowError(
                    row=row,
                    column=str(err["loc"][0]) if err["loc"] else "?",
                    reason=render(msg("import.value_invalid", detail=str(err["msg"])), lang),
                )
                for err in exc.errors()
            )
            continue
        valid.append(values)
    errors.sort(key=lambda e: (e.row, e.column))
    return ParsedUpload(valid, errors, warnings, len(rows), rejected=len({e.row for e in errors}))


async def import_upload(
    conn: AsyncConnection[Any],
    *,
    file: UploadFile,
    dry_run: bool,
    actor: Actor,
    parse: Callable[[bytes, str], ParsedUpload[Row, RowError]],
    store: Callable[[AsyncConnection[Any], list[Row]], Awaitable[tuple[int, int]]],
    action: str,
    target: str,
    kind: str,
) -> ImportReport:
    """A directory import route's work: read the upload (one byte past the limit, so the
    reader refuses an oversized file), run services.imports.run_import, report."""
    done = await run_import(
        conn,
        data=await file.read(UPLOAD_LIMITS.max_bytes + 1),
        filename=file.filename or "",
        parse=parse,
        store=store,
        dry_run=dry_run,
        actor=actor,
        action=action,
        target=target,
        kind=kind,
    )
    return ImportReport(
        **done.summary() | {"errors": done.parsed.errors, "warnings": done.parsed.warnings}
    )
