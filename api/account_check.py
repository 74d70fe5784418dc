"""Tokens stop working soon after their account is deactivated or changes role."""

from __future__ import annotations

import time
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from domain.errors import Unauthorized
from domain.i18n import msg
from domain.users import Principal
from storage import users

#: How long a checked account state is trusted; deactivation reaches other replicas within it.
TTL_S = 5.0


@dataclass(frozen=True, slots=True)
class _State:
    active: bool
    role: str
    enterprise_id: str | None
    checked: float


class AccountCheck:
    """Checks a token's principal against its account, at most once per TTL per user."""

    def __init__(self, ttl_s: float = TTL_S) -> None:
        self._ttl = ttl_s
        self._seen: dict[int, _State] = {}

    @property
    def ttl_s(self) -> float:
        """How long a checked state is trusted (live sockets re-check at this interval too)."""
        return self._ttl

    def forget(self, user_id: int) -> None:
        """Drop the cached state (after this process changed the account)."""
        self._seen.pop(user_id, None)

    async def ensure_current(self, pool: AsyncConnectionPool, principal: Principal) -> None:
        """Raise Unauthorized when the account is gone, inactive, or no longer matches."""
        now = time.monotonic()
        state = self._seen.get(principal.user_id)
        if state is None or now - state.checked > self._ttl:
            state = await self._load(pool, principal.user_id, now)
        if state is None or not state.active:
            raise Unauthorized(msg("auth.account_deactivated"))
        if state.role != principal.role.value or state.enterprise_id != principal.enterprise_id:
            raise Unauthorized(msg("auth.role_changed"))

    async def _load(self, pool: AsyncConnectionPool, user_id: int, now: float) -> _State | None:
        async with pool.connection() as conn:
            found = await users.account_state(conn, user_id=user_id)
        if found is None:
            self._seen.pop(user_id, None)
            return None
        state = _State(found.active, found.role, found.enterprise_id, now)
        self._seen[user_id] = state
        return state
