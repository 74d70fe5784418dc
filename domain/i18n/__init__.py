"""Message catalogue: stable codes with parameters, rendered zh-CN first (English available).

A `Message` is what rules, services and errors produce; a person reads `render(message, lang)`.
Templates use `str.format` fields with a few format kinds (see `_Formatter`); the catalogues are
plain dicts in `domain/i18n/zh_cn.py` and `domain/i18n/en.py` (how to add a key: docs/i18n.md).
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from domain.i18n import en, zh_cn

log = logging.getLogger(__name__)

ZH = "zh-CN"
EN = "en"
LANGS: tuple[str, ...] = (ZH, EN)
DEFAULT_LANG = ZH
#: The bureau works in Asia/Shanghai: every time a person reads is shown there.
TZ = ZoneInfo("Asia/Shanghai")
CATALOGUES: dict[str, Mapping[str, str]] = {ZH: zh_cn.MESSAGES, EN: en.MESSAGES}
#: Marks a nested message inside JSON parameters.
_NESTED = "$msg"


@dataclass(frozen=True, slots=True)
class Message:
    """A catalogue code and its JSON-safe parameters."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The message as JSON: {"$msg": code, "params": {...}}."""
        return {_NESTED: self.code, "params": dict(self.params)}


def msg(code: str, /, **params: Any) -> Message:
    """A message with its parameters made JSON-safe (times as ISO text, enums as values)."""
    return Message(code, {k: _jsonable(v) for k, v in params.items()})


def op_label(op_type: object, grade: str | None) -> Message:
    """An operation type with its grade as the standard names it (特级动火作业, Ⅰ级高处作业)."""
    kind = _jsonable(op_type)
    if grade and f"term.grade.{kind}.{grade}" in CATALOGUES[ZH]:
        return msg("op.graded", op_type=kind, grade=msg(f"term.grade.{kind}.{grade}"))
    return msg("op.label", op_type=kind)


def from_json(value: Mapping[str, Any]) -> Message:
    """The message back from `Message.as_json`."""
    return Message(str(value[_NESTED]), dict(value.get("params") or {}))


def has_key(code: str, lang: str = ZH) -> bool:
    """Whether the catalogue of `lang` has `code`."""
    return code in CATALOGUES[lang]


def render(message: Message | str, lang: str = ZH) -> str:
    """The text of a message (or of a bare code) in `lang`; zh-CN is the fallback catalogue."""
    if isinstance(message, str):
        message = Message(message)
    lang = lang if lang in CATALOGUES else DEFAULT_LANG
    template = CATALOGUES[lang].get(message.code) or CATALOGUES[ZH].get(message.code)
    if template is None:
        log.warning("message catalogue has no key %s", message.code)
        return message.code
    try:
        return _Formatter(lang).vformat(template, (), dict(message.params))
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        log.warning("message %s failed to render: %s", message.code, exc)
        return template


def term(group: str, value: object, lang: str = ZH) -> str:
    """The display name of one value of a vocabulary (`term.<group>.<value>`), else the value."""
    code = f"term.{group}.{_jsonable(value)}"
    return render(code, lang) if code in CATALOGUES[ZH] else str(value)


def negotiate(accept_language: str | None) -> str:
    """The best supported language for an Accept-Language header; zh-CN when nothing matches."""
    best, best_q = DEFAULT_LANG, -1.0
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        q = 1.0
        for p in params.split(";"):
            name, _, val = p.strip().partition("=")
            if name == "q":
                try:
                    q = float(val)
                except ValueError:
                    q = 0.0
        lang = ZH if tag.startswith("zh") else EN if tag.startswith("en") else None
        # Earlier entries win ties, as browsers list their preference first.
        if lang is not None and q > 0 and q - index * 1e-6 > best_q:
            best, best_q = lang, q - index * 1e-6
    return best


def format_number(value: float | int, lang: str = ZH) -> str:
    """A number for reading: thousands separators, at most two decimals, no trailing zeros."""
    if isinstance(value, bool):
        return render("common.yes" if value else "common.no", lang)
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def format_datetime(value: datetime | str, lang: str = ZH) -> str:
    """A time in Asia/Shanghai, to the minute (YYYY-MM-DD HH:MM)."""
    ts = datetime.fromisoformat(value) if isinstance(value, str) else value
    if ts.tzinfo is None:
        return ts.strftime("%Y-%m-%d %H:%M")
    return ts.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


def format_date(value: date | str, lang: str = ZH) -> str:
    """A calendar date: 2026年12月3日 in zh-CN, 2026-12-03 otherwise."""
    d = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return f"{d.year}年{d.month}月{d.day}日" if lang == ZH else d.isoformat()


class _Formatter(string.Formatter):
    """`{x:num}` number, `{x:dt}` time, `{x:date}` date, `{x:yn}` yes/no, `{x:list}` messages
    joined, `{x:term.<group>}` a vocabulary term, `{x:val}` number or yes/no; a nested message
    renders itself."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        lang = self.lang
        if isinstance(value, Message):
            return render(value, lang)
        if isinstance(value, Mapping) and _NESTED in value:
            return render(from_json(value), lang)
        if value is None:
            return render("common.none", lang)
        if format_spec == "num":
            return format_number(value, lang)
        if format_spec == "val":
            return format_number(value, lang) if isinstance(value, int | float) else str(value)
        if format_spec == "dt":
            return format_datetime(value, lang)
        if format_spec == "date":
            return format_date(value, lang)
        if format_spec == "yn":
            return render("common.yes" if value else "common.no", lang)
        if format_spec == "list":
            sep = "；" if lang == ZH else "; "
            return sep.join(self.format_field(v, "") for v in _as_list(value))
        if format_spec.startswith("term."):
            return term(format_spec[5:], value, lang)
        return str(super().format_field(value, format_spec))


def _as_list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else [value]


def _jsonable(value: Any) -> Any:
    if isinstance(value, Message):
        return value.as_json()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value
