"""Inspection lists and task notices of a drawn record (teams by officer id, never pseudonym)."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from domain.directory import Enterprise, Officer
from domain.errors import Conflict, NotFound
from domain.i18n import msg
from domain.inspection_list import (
    METHOD_LABELS,
    ChecklistEntry,
    InspectionList,
    TaskNotice,
    build_lists,
    notices,
)
from storage import directory, draws
from storage import inspection_lists as list_storage


async def inspection_lists(conn: AsyncConnection[Any], *, draw_id: int) -> list[InspectionList]:
    """The inspection list of every staffed enterprise of a drawn record, in team order: the
    items each drawn inspection carries (what its findings are restricted to)."""
    record = await draws.get_draw(conn, draw_id=draw_id)
    if record.state != "drawn":
        raise Conflict(msg("draw.not_drawn_yet", draw_id=draw_id))
    picked = [s for s in await draws.selections(conn, draw_id=draw_id) if s.staffed]
    codes = [s.credit_code for s in picked]
    people = {x for s in picked for x in (*s.officers, *s.experts)}
    ents: dict[str, Enterprise] = {
        e.credit_code: e for e in await directory.enterprises_by_code(conn, codes=codes)
    }
    offs: dict[str, Officer] = {
        o.officer_id: o for o in await directory.officers_by_id(conn, ids=sorted(people))
    }
    missing = sorted(set(codes) - set(ents)) + sorted(people - set(offs))
    if missing:
        raise NotFound(msg("draw.no_longer_in_directory", missing=", ".join(missing[:5])))
    return build_lists(
        plan_id=record.plan_id,
        period=record.period,
        window_from=record.period_start,
        window_to=record.period_end,
        teams=[(s.credit_code, s.officers, s.experts) for s in picked],
        enterprises=ents,
        officers=offs,
        listed={
            code: [
                ChecklistEntry(
                    i.item_id, i.item, i.sub_item, i.legal_basis, METHOD_LABELS[i.method]
                )
                for i in rows
            ]
            for code, rows in (await list_storage.for_draw(conn, draw_id=draw_id)).items()
        },
    )


async def task_notices(
    conn: AsyncConnection[Any], *, draw_id: int, authority: str, prefix: str
) -> list[TaskNotice]:
    """A task notice per team of a drawn record (authority and number prefix as printed)."""
    return notices(
        await inspection_lists(conn, draw_id=draw_id), authority=authority, prefix=prefix
    )
