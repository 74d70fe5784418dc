"""What the duty room reads of one enterprise right now: its status with open maintenance,
open special operations with their latest gas test, presence and open alarms (one read, no
writes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from domain.errors import NotFound
from domain.i18n import msg
from domain.monitoring import EnterpriseId, Severity
from domain.special_ops import SpecialOp
from domain.status import EnterpriseStatus
from storage import alarms, enterprise_status, enterprises, special_ops
from storage.enterprise_status import PresenceRow
from storage.special_ops import StoredTest

_SEVERITY_BY_RANK = {s.rank: s for s in Severity}


@dataclass(frozen=True, slots=True)
class OpenOp:
    """An open special operation and its latest gas test (None before the first)."""

    op: SpecialOp
    last_test: StoredTest | None


@dataclass(frozen=True, slots=True)
class EnterpriseNow:
    """The current state of one enterprise."""

    name: str
    status: EnterpriseStatus
    presence: PresenceRow | None
    open_ops: list[OpenOp]
    open_alarms: int
    worst_open_severity: Severity | None


async def enterprise_name(conn: AsyncConnection[Any], *, ent: str) -> str:
    """The directory name of `ent`; NotFound when it is not in the directory."""
    name = await enterprises.enterprise_name(conn, code=ent)
    if name is None:
        raise NotFound(msg("enterprise.not_in_directory", code=ent))
    return name


async def enterprise_now(conn: AsyncConnection[Any], *, ent: str) -> EnterpriseNow:
    """The current state of `ent`; NotFound when it is not in the directory."""
    name = await enterprise_name(conn, ent=ent)
    found = await enterprise_status.lock_statuses(conn, ents=[ent], lock=False)
    ops = []
    for op in await special_ops.open_ops(conn, ent=ent):
        tests = await special_ops.tests_of(conn, ent=ent, op_id=op.op_id)
        ops.append(OpenOp(op, tests[0] if tests else None))
    count, worst = await alarms.open_alarms(conn, ent=ent)
    return EnterpriseNow(
        name=name,
        status=found.get(EnterpriseId(ent)) or EnterpriseStatus(EnterpriseId(ent)),
        presence=await enterprise_status.presence(conn, ent=ent),
        open_ops=ops,
        open_alarms=count,
        worst_open_severity=_SEVERITY_BY_RANK.get(worst) if worst else None,
    )


@dataclass(frozen=True, slots=True)
class Summary:
    """The dashboard's counts: enterprises by status and presence, open special operations by
    type and grade, open alarms by severity."""

    counts: dict[str, int]
    special_ops: dict[str, dict[str, int]]
    alarms_open: dict[str, int]


async def summary(conn: AsyncConnection[Any], *, online_since: datetime) -> Summary:
    """The dashboard's counts; an enterprise is online when active since `online_since`."""
    return Summary(
        counts=await enterprise_status.summary_counts(conn, online_since=online_since),
        special_ops=await special_ops.count_open_by_type(conn),
        alarms_open=await alarms.count_open_by_severity(conn),
    )
