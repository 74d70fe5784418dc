"""One place that maps psycopg errors to the domain's errors."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import psycopg
from psycopg import errors as pg

from domain.errors import (
    Conflict,
    Immutable,
    NotFound,
    SafewatchError,
    StorageUnavailable,
    ValidationFailed,
)

log = logging.getLogger(__name__)

#: SQLSTATE raised by our own triggers when a published record is touched.
IMMUTABLE_SQLSTATE = "SW001"


def translate(exc: psycopg.Error) -> SafewatchError:
    """Return the domain error for a psycopg error (the original is kept as __cause__).

    The caller sees a fixed zh-CN/English sentence, never PostgreSQL's text: messages, details
    and constraint names name tables, columns and stored values. Operators find them in the log.
    """
    diag = getattr(exc, "diag", None)
    log.info(
        "database refused a statement: sqlstate=%s constraint=%s %s",
        exc.sqlstate,
        getattr(diag, "constraint_name", None),
        getattr(diag, "message_primary", None) or exc.__class__.__name__,
    )
    if exc.sqlstate == IMMUTABLE_SQLSTATE:
        return Immutable(
            "该记录已公开或只可追加，不能修改（this record is published or append-only）"
        )
    if isinstance(exc, pg.UniqueViolation):
        return Conflict("该记录已存在（this record already exists）")
    if isinstance(exc, pg.ForeignKeyViolation):
        return NotFound("引用的记录不存在（refers to something that does not exist）")
    if isinstance(exc, pg.CheckViolation | pg.NotNullViolation | pg.DataError):
        return ValidationFailed("数据不符合存储规则（a value is not acceptable for storage）")
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return StorageUnavailable("数据库暂时不可用（database unavailable）")
    return SafewatchError(f"database error {exc.sqlstate or ''}".strip())


@contextmanager
def mapped_errors() -> Iterator[None]:
    """Re-raise psycopg errors inside the block as domain errors."""
    try:
        yield
    except psycopg.Error as exc:
        raise translate(exc) from exc


@asynccontextmanager
async def amapped_errors() -> AsyncIterator[None]:
    """Async twin of `mapped_errors`."""
    try:
        yield
    except psycopg.Error as exc:
        raise translate(exc) from exc
