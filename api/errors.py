"""One error shape everywhere: {"error": {"code", "message", "details"?}}; never a stack trace."""

from __future__ import annotations

import logging
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
    Unauthorized,
    ValidationFailed,
)

log = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[SafewatchError], int] = {
    ValidationFailed: 422,
    NotFound: 404,
    Conflict: 409,
    RuleViolation: 409,
    Immutable: 409,
    Forbidden: 403,
    Unauthorized: 401,
    StorageUnavailable: 503,
}


class ErrorBody(BaseModel):
    """The inner error object."""

    code: str
    message: str
    details: Any | None = None


class ErrorResponse(BaseModel):
    """The JSON body of every error response."""

    error: ErrorBody


#: For `responses=` on routes so OpenAPI documents the shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 422)
}


def error_json(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    """Build an error response in the one shape."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _status_for(exc: SafewatchError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def install(app: FastAPI) -> None:
    """Register the handlers that map every error to the one shape."""

    @app.exception_handler(SafewatchError)
    async def _domain(_: Request, exc: SafewatchError) -> JSONResponse:
        status = _status_for(exc)
        if status == 500:
            log.error("unmapped domain error: %s", exc.message)
            return error_json(500, "internal_error", "internal error")
        return error_json(status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {
                "loc": list(err.get("loc", ())),
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
            for err in exc.errors()
        ]
        return error_json(422, "validation_failed", "request is not valid", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            429: "too_many_requests",
        }.get(exc.status_code, "http_error")
        return error_json(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_json(500, "internal_error", "internal error")
