"""JSON log lines (one object per line, context fields) and the strong-ETag helpers."""

from __future__ import annotations

import io
import json
import logging

import pytest
from starlette.requests import Request

from api.http_cache import IMMUTABLE, cached, matches, strong_etag
from config.logs import JsonFormatter, log_context, setup_logging


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("monitor.ingest", logging.WARNING, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_line_has_every_field_and_the_context() -> None:
    fmt = JsonFormatter()
    with log_context(enterprise="91652301MA0000000X", event_id="e-1"):
        line = fmt.format(_record("refused %s: %d", "报文", 3))
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "monitor.ingest"
    assert entry["message"] == "refused 报文: 3"
    assert entry["enterprise"] == "91652301MA0000000X"
    assert entry["event_id"] == "e-1"
    assert entry["request_id"] is None
    assert entry["time"].endswith("+00:00")
    outside = json.loads(fmt.format(_record("x")))
    assert outside["enterprise"] is None  # the context ended with the block


def test_extra_fields_and_exceptions_stay_on_one_line() -> None:
    fmt = JsonFormatter()
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        import sys

        record = _record("failed", request_id="r-9")
        record.exc_info = sys.exc_info()
    line = fmt.format(record)
    entry = json.loads(line)
    assert entry["request_id"] == "r-9"
    assert "ValueError" in entry["exception"]
    assert line.count("\n") == 0


def test_unknown_context_field_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log context field"), log_context(user="x"):
        pass


def test_setup_logging_json_and_apscheduler_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        setup_logging("INFO", "json")
        logging.getLogger("apscheduler.executors.default").info("Running job …")
        logging.getLogger("scheduler.jobs").info("ran %s", "draws")
        lines = stream.getvalue().splitlines()
        assert [json.loads(line)["message"] for line in lines] == ["ran draws"]
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name in ("apscheduler.executors", "apscheduler.scheduler"):
            logging.getLogger(name).setLevel(logging.NOTSET)


def _request(if_none_match: str | None) -> Request:
    headers = [] if if_none_match is None else [(b"if-none-match", if_none_match.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


def test_strong_etag_and_conditional_answers() -> None:
    body = b'{"draw": 1}'
    tag = strong_etag(body)
    assert tag.startswith('"')
    assert not tag.startswith("W/")
    assert strong_etag(body + b" ") != tag
    assert matches(_request(tag), tag)
    assert matches(_request(f'"other", W/{tag}'), tag)  # weak comparison for If-None-Match
    assert matches(_request("*"), tag)
    assert not matches(_request('"other"'), tag)
    assert not matches(_request(None), tag)
    full = cached(_request(None), body, media_type="application/json", cache_control=IMMUTABLE)
    assert full.status_code == 200
    assert full.headers["etag"] == tag
    assert full.headers["cache-control"] == IMMUTABLE
    hit = cached(_request(tag), body, media_type="application/json", cache_control=IMMUTABLE)
    assert hit.status_code == 304
    assert hit.body == b""
    assert hit.headers["etag"] == tag
