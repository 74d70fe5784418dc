"""Who may act on an inspection record: supervisors and admins always, an inspector only on
an inspection whose team includes the officer the account is linked to."""

from __future__ import annotations

from collections.abc import Collection

from domain.errors import Forbidden
from domain.users import Principal, Role

#: Roles that act on any inspection (they assign and supervise the teams).
OVERSEERS = frozenset({Role.ADMIN, Role.SUPERVISOR})


def ensure_on_team(principal: Principal, *, officer_id: str | None, team: Collection[str]) -> None:
    """Raise Forbidden unless the principal oversees inspections or is on this one's team."""
    if principal.role in OVERSEERS:
        return
    if principal.role is not Role.INSPECTOR:
        raise Forbidden(
            f"角色 {principal.role.value} 不能处理检查记录（this role may not act on it）"
        )
    if officer_id is None:
        raise Forbidden(
            "该检查员账号未关联执法人员，不能处理检查记录"
            "（this inspector account is not linked to an officer record）"
        )
    if officer_id not in team:
        raise Forbidden(
            "只有本次检查的检查组成员才能处理该检查（only the inspection's team may act on it）",
            details={"officer_id": officer_id},
        )
