"""Users, roles and the principal an authenticated request acts as."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """Roles; the anonymous public has none and only reaches /public/v1."""

    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    DUTY = "duty"
    INSPECTOR = "inspector"
    ENTERPRISE = "enterprise"


STAFF_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.DUTY, Role.INSPECTOR})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as. Enterprise users are bound to one credit code."""

    user_id: int
    username: str
    role: Role
    enterprise_id: str | None = None

    def may_see_enterprise(self, credit_code: str) -> bool:
        """Staff see every enterprise; an enterprise user only its own."""
        if self.role is Role.ENTERPRISE:
            return self.enterprise_id == credit_code
        return True


@dataclass(frozen=True, slots=True)
class User:
    """A stored account."""

    id: int
    username: str
    display_name: str
    password_hash: str
    role: str
    enterprise_id: str | None
    active: bool
