"""Unified social credit code (统一社会信用代码, GB 32100-2015): format and check character."""

from __future__ import annotations

from domain.errors import ValidationFailed
from domain.i18n import EN, Message, msg, render

#: The 31 characters GB 32100-2015 allows (no I, O, S, V, Z).
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
#: Weights of positions 1-17 (3^(i-1) mod 31).
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18


def check_character(first17: str) -> str:
    """Return the check character for the first 17 characters of a code."""
    if len(first17) != LENGTH - 1:
        raise ValueError("need exactly 17 characters")
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def credit_code_issue(code: str) -> Message | None:
    """Why `code` is not a valid credit code (a catalogue message), or None when it is."""
    if not isinstance(code, str):
        return msg("credit_code.not_text")
    if len(code) != LENGTH:
        return msg("credit_code.length", expected=LENGTH, actual=len(code))
    if code != code.upper():
        return msg("credit_code.upper")
    for pos, ch in enumerate(code, start=1):
        if ch not in _VALUE:
            return msg("credit_code.char", ch=ch, pos=pos)
    if not code[2:8].isdigit():
        return msg("credit_code.division")
    expected = check_character(code[:17])
    if code[17] != expected:
        return msg("credit_code.check", got=code[17], expected=expected)
    return None


def credit_code_problem(code: str) -> str | None:
    """Why `code` is not a valid credit code in English (MQTT reject reasons), or None."""
    issue = credit_code_issue(code)
    return None if issue is None else render(issue, EN)


def validate_credit_code(code: str) -> str:
    """Return `code` unchanged when valid, else raise `ValidationFailed` saying why."""
    issue = credit_code_issue(code)
    if issue is not None:
        raise ValidationFailed(
            msg("credit_code.invalid", code=code, problem=issue), details={"code": code}
        )
    return code


#: GB 11714-1997 organisation code: weights of the 8 body characters.
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_check_character(body8: str) -> str:
    """GB 11714 check character of an 8-character organisation-code body (digits, A–Z)."""
    total = sum(
        (int(ch) if ch.isdigit() else ord(ch) - 55) * w
        for ch, w in zip(body8, ORG_WEIGHTS, strict=True)
    )
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def org_code(serial: int) -> str:
    """A 9-character organisation code "MA…" (as issued since 2015) with its GB 11714 check."""
    chars = []
    for _ in range(6):
        serial, rest = divmod(serial, len(ALPHABET))
        chars.append(ALPHABET[rest])
    body = "MA" + "".join(reversed(chars))
    return body + org_check_character(body)


def make_credit_code(division: str, serial: int, *, dept: str = "9", kind: str = "1") -> str:
    """Build a valid code for demo data and tests: dept, kind, 6-digit division, 9-char serial."""
    body = f"{dept}{kind}{division}{serial:09d}"
    body = "".join(ch if ch in _VALUE else "0" for ch in body)
    if len(body) != LENGTH - 1:
        raise ValueError("division must be 6 digits and serial fit 9 digits")
    return body + check_character(body)
