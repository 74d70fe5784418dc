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


def install(app: FastAPI) -> None:
    """Register the handlers that map every error to the one shape."""

    @app.exception_handler(SafewatchError)
    async def _domain(request: Request, exc: SafewatchError) -> JSONResponse:
        status = _status_for(exc)
        lang = _lang(request)
        if status == 500:
            log.error("unmapped domain error: %s", exc.message)
            return error_json(500, "internal_error", _generic("internal_error", lang))
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
        text = localized(code, str(exc.detail), _lang(request))
        return error_json(exc.status_code, code, **text)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_json(500, "internal_error", _generic("internal_error", _lang(request)))
