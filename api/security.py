"""Password hashing (argon2id) and short-lived JWT access tokens."""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from domain.errors import Unauthorized
from domain.i18n import msg
from domain.users import Principal, Role

_hasher = PasswordHasher()
ALGORITHM = "HS256"
ISSUER = "safewatch"
#: Verified against when the user does not exist, so timing does not reveal account names.
_DUMMY_HASH = _hasher.hash("safewatch-timing-equaliser")


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check a password against its hash in constant-ish time."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def issue_token(principal: Principal, *, secret: str, now: datetime, ttl: timedelta) -> str:
    """Return a signed access token for the principal."""
    claims: dict[str, Any] = {
        "sub": str(principal.user_id),
        "name": principal.username,
        "role": principal.role.value,
        "ent": principal.enterprise_id,
        "iss": ISSUER,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


#: Tokens already verified, with their expiry: the same string signed with the same key
#: always carries the same claims, so each is verified once rather than on every request.
_VERIFIED: OrderedDict[tuple[str, str], tuple[Principal, float]] = OrderedDict()
VERIFIED_MAX = 20_000


def read_token(token: str, *, secret: str) -> Principal:
    """Verify a token and return its principal; raise Unauthorized when it is not valid."""
    key = (secret, token)
    known = _VERIFIED.get(key)
    if known is not None:
        if known[1] > time.time():
            return known[0]
        del _VERIFIED[key]  # expired: verify again, which raises the precise error
    principal, expires = _verify(token, secret)
    _VERIFIED[key] = (principal, expires)
    if len(_VERIFIED) > VERIFIED_MAX:
        _VERIFIED.popitem(last=False)
    return principal


def _verify(token: str, secret: str) -> tuple[Principal, float]:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "role", "iss"]},
        )
        principal = Principal(
            user_id=int(claims["sub"]),
            username=str(claims.get("name", "")),
            role=Role(claims["role"]),
            enterprise_id=claims.get("ent"),
        )
        return principal, float(claims["exp"])
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized(msg("auth.token_expired")) from exc
    except (jwt.InvalidTokenError, ValueError, KeyError) as exc:
        raise Unauthorized(msg("auth.token_invalid")) from exc
