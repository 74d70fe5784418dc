"""Process logging: plain text for a terminal or JSON lines for a collector (SAFEWATCH_LOG_FORMAT).

A JSON line always carries time, level, logger and message, plus the enterprise, event id and
request id in scope (set with `log_context`, or passed as `extra=`), so one search finds every
line about an enterprise or a request across the three processes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: The fields a JSON line carries besides time, level, logger and message.
CONTEXT_FIELDS = ("enterprise", "event_id", "request_id")

_context: dict[str, ContextVar[str | None]] = {
    name: ContextVar(f"safewatch_log_{name}", default=None) for name in CONTEXT_FIELDS
}

#: Loggers that talk at INFO about routine work: APScheduler logs four lines per job run.
QUIET_AT_INFO = ("apscheduler.executors", "apscheduler.scheduler")


@contextlib.contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Attach enterprise / event_id / request_id to every line logged inside the block."""
    tokens = []
    for name, value in fields.items():
        if name not in _context:
            raise ValueError(f"unknown log context field {name!r}")
        tokens.append((_context[name], _context[name].set(value)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current(name: str) -> str | None:
    """The value of a context field in scope (None outside any log_context)."""
    return _context[name].get()


_base_factory = logging.getLogRecordFactory()


def _stamped_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Copy the context in scope onto each record when it is created (a handler may format it
    later, elsewhere); an `extra=` value given by the caller wins."""
    record = _base_factory(*args, **kwargs)
    for name, var in _context.items():
        value = var.get()
        if value is not None:
            setattr(record, name, value)
    return record


if getattr(logging.getLogRecordFactory(), "__name__", "") != "_stamped_record":
    logging.setLogRecordFactory(_stamped_record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; never raises on odd arguments."""

    def format(self, record: logging.LogRecord) -> str:
        """Render `record` as one line of JSON."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None) or _context[name].get()
            entry[name] = None if value is None else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(level: str, fmt: str = "text") -> None:
    """Configure the root logger once per process (replacing handlers set before)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    quiet = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in QUIET_AT_INFO:
        logging.getLogger(name).setLevel(quiet)
