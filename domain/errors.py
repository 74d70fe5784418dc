"""The small hierarchy of errors that the domain and storage raise and `api/` maps to HTTP."""

from __future__ import annotations

from typing import Any

from domain.i18n import Message, render


class SafewatchError(Exception):
    """Base of every error Safewatch raises on purpose; carries a stable machine code.

    `message` is either a catalogue message (rendered in the reader's language; `message` holds
    its zh-CN text) or, in older code, plain text; docs/i18n.md says how to add a key.
    """

    code = "error"

    def __init__(self, message: str | Message, *, details: Any = None) -> None:
        self.catalogue: Message | None = message if isinstance(message, Message) else None
        text = render(message) if isinstance(message, Message) else message
        super().__init__(text)
        self.message = text
        self.details = details

    def text(self, lang: str) -> str:
        """The message in `lang` (a catalogue message), else the text it was raised with."""
        return render(self.catalogue, lang) if self.catalogue is not None else self.message


class ValidationFailed(SafewatchError):
    """Input is malformed or breaks a rule (HTTP 422, MQTT reject)."""

    code = "validation_failed"


class TooLarge(ValidationFailed):
    """Input exceeds a size limit: a body, a file, or what a file expands to (HTTP 413)."""

    code = "too_large"


class NotFound(SafewatchError):
    """The thing asked for does not exist (HTTP 404)."""

    code = "not_found"


class Conflict(SafewatchError):
    """The change clashes with the current state, e.g. a duplicate key (HTTP 409)."""

    code = "conflict"


class Forbidden(SafewatchError):
    """The caller may not do this (HTTP 403)."""

    code = "forbidden"


class Unauthorized(SafewatchError):
    """The caller is not authenticated (HTTP 401)."""

    code = "unauthorized"


class RuleViolation(SafewatchError):
    """A state transition or action the rules do not allow (HTTP 409)."""

    code = "rule_violation"


class Immutable(SafewatchError):
    """A published record cannot be changed (HTTP 409)."""

    code = "immutable"


class StorageUnavailable(SafewatchError):
    """The database cannot be reached or refused the connection (HTTP 503)."""

    code = "storage_unavailable"


class ConfigurationError(SafewatchError):
    """Settings or a policy file are invalid; the process refuses to start."""

    code = "configuration_error"
