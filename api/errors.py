"""One error shape everywhere: {"error": {"code", "message", "details"?}}; never a stack trace."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import (
    Conflict,
    Forbidden,
    Immutable,
    NotFound,
    RuleViolation,
    SafewatchError,
    StorageUnavailable,
    TooLarge,
    Unauthorized,
    ValidationFailed,
)
from domain.i18n import EN, Message, has_key, negotiate, render

log = logging.getLogger(__name__)
#: One line per refused request (4xx), so that bad input is recorded, not only answered: the
#: method, path, status, code and the fields named in the details. Never the submitted values
#: (they may hold personal data); the request id in the log context ties it to the access log.
refusals = logging.getLogger("safewatch.api.refusals")

STATUS_BY_ERROR: dict[type[SafewatchError], int] = {
    ValidationFailed: 422,
    TooLarge: 413,
    NotFound: 404,
    Conflict: 409,
    RuleViolation: 409,
    Immutable: 409,
    Forbidden: 403,
    Unauthorized: 401,
    StorageUnavailable: 503,
}


class ErrorBody(BaseModel):
    """The inner error object: `message` in the caller's language (Accept-Language, zh-CN by
    default) beside the stable `code`; `reason` keeps a technical text that has no catalogue
    entry yet (English)."""

    code: str
    message: str
    details: Any | None = None
    reason: str | None = None


class ErrorResponse(BaseModel):
    """The JSON body of every error response."""

    error: ErrorBody


#: For `responses=` on routes so OpenAPI documents the shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 413, 422)
}


def error_json(
    status: int, code: str, message: str, details: Any = None, reason: str | None = None
) -> JSONResponse:
    """Build an error response in the one shape."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    if reason is not None:
        body["reason"] = reason
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _lang(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


def _generic(code: str, lang: str) -> str:
    key = f"error.{code}"
    return render(key if has_key(key) else "error.error", lang)


def localized(code: str, text: str, lang: str, message: Message | None = None) -> dict[str, Any]:
    """`message` (and `reason`) of an error for a reader of `lang`.

    A catalogue message renders in `lang`; a plain text already in Chinese is kept; a plain
    English text is kept for an English reader and, for a zh-CN reader, replaced by the code's
    generic zh-CN text with the English kept as `reason`.
    """
    if message is not None:
        return {"message": render(message, lang)}
    if _CJK.search(text) or lang == EN:
        return {"message": text}
    return {"message": _generic(code, lang), "reason": text}


_CJK = re.compile(r"[\u3400-\u9fff]")


def _status_for(exc: SafewatchError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def _fields(details: Any) -> list[str]:
    """The field names a refusal's details point at: pydantic `loc`, a `field` entry, or the
    keys of a field-by-field mapping (never the values)."""
    items = details if isinstance(details, list) else [details]
    names: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if "field" not in item and "loc" not in item:
            names.extend(str(key) for key in item)
            continue
        if isinstance(item.get("field"), str):
            names.append(item["field"])
        loc = item.get("loc")
        if isinstance(loc, list | tuple) and loc:
            names.append(".".join(str(part) for part in loc if part != "body") or "body")
    return names


def record_refusal(request: Request, status: int, code: str, details: Any = None) -> None:
    """Log one refused request at INFO (WARNING for 401/403: possible probing)."""
    level = logging.WARNING if status in (401, 403) else logging.INFO
    refusals.log(
        level,
        "refused %s %s: %d %s fields=%s",
        request.method,
        request.url.path,
        status,
        code,
        ",".join(_fields(details)) or "-",
    )


def install(app: FastAPI) -> None:
    """Register the handlers that map every error to the one shape."""

    @app.exception_handler(SafewatchError)
    async def _domain(request: Request, exc: SafewatchError) -> JSONResponse:
        status = _status_for(exc)
        lang = _lang(request)
        if status == 500:
            log.error("unmapped domain error: %s", exc.message)
            return error_json(500, "internal_error", _generic("internal_error", lang))
        record_refusal(request, status, exc.code, exc.details)
        text = localized(exc.code, exc.message, lang, exc.catalogue)
        return error_json(status, exc.code, details=exc.details, **text)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {
                "loc": list(err.get("loc", ())),
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
            for err in exc.errors()
        ]
        record_refusal(request, 422, "validation_failed", details)
        message = _generic("request_invalid", _lang(request))
        return error_json(422, "validation_failed", message, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            429: "too_many_requests",
        }.get(exc.status_code, "http_error")
        record_refusal(request, exc.status_code, code)
        text = localized(code, str(exc.detail), _lang(request))
        return error_json(exc.status_code, code, **text)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_json(500, "internal_error", _generic("internal_error", _lang(request)))
