"""The inspection-item list (抽查事项清单) each drawn inspection carries, with the entries of the
checklist catalogue its items link to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import class_row

from storage.errors import amapped_errors
from storage.rows import fetch_all

#: The items of the inspection-item list that apply to the inspection's enterprise, copied as they
#: are now (the rule of domain.directory.InspectionItem.applies_to: "*" or the sector).
COPY_FOR_INSPECTION = """
INSERT INTO inspection_list_items (inspection_id, item_id, item, sub_item, legal_basis, method)
SELECT i.id, it.item_id, it.item, it.sub_item, it.legal_basis, it.method
  FROM inspections i
  JOIN enterprises e USING (credit_code)
  JOIN inspection_items it ON '*' = ANY (it.sectors) OR e.sector = ANY (it.sectors)
 WHERE i.id = %(inspection_id)s
ON CONFLICT DO NOTHING
"""
#: The list of one inspection, with the catalogue entries each item links to now.
FOR_INSPECTION = """
SELECT l.item_id, l.item, l.sub_item, l.legal_basis, l.method,
       coalesce(it.checklist_codes, '{}') AS checklist_codes
  FROM inspection_list_items l
  LEFT JOIN inspection_items it USING (item_id)
 WHERE l.inspection_id = %(inspection_id)s
 ORDER BY l.item_id COLLATE "C"
"""
#: The lists of a draw's inspections, by enterprise.
FOR_DRAW = """
SELECT i.credit_code, l.item_id, l.item, l.sub_item, l.legal_basis, l.method,
       coalesce(it.checklist_codes, '{}') AS checklist_codes
  FROM inspections i
  JOIN inspection_list_items l ON l.inspection_id = i.id
  LEFT JOIN inspection_items it ON it.item_id = l.item_id
 WHERE i.draw_id = %(draw_id)s
 ORDER BY i.credit_code, l.item_id COLLATE "C"
"""


@dataclass(frozen=True, slots=True)
class ListItem:
    """One item of a drawn inspection's list."""

    item_id: str
    item: str
    sub_item: str
    legal_basis: str
    method: str
    checklist_codes: list[str]


async def copy_for_inspection(cur: AsyncCursor[Any], *, inspection_id: int) -> None:
    """Give a new drawn inspection the items of the list that apply to its enterprise (inside the
    caller's transaction)."""
    await cur.execute(COPY_FOR_INSPECTION, {"inspection_id": inspection_id})


async def for_inspection(conn: AsyncConnection[Any], *, inspection_id: int) -> list[ListItem]:
    """The list an inspection carries (empty for one made by hand)."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(ListItem)) as cur:
        await cur.execute(FOR_INSPECTION, {"inspection_id": inspection_id})
        return await cur.fetchall()


async def for_draw(conn: AsyncConnection[Any], *, draw_id: int) -> dict[str, list[ListItem]]:
    """The lists of a draw's inspections by enterprise credit code."""
    out: dict[str, list[ListItem]] = {}
    for row in await fetch_all(conn, statement=FOR_DRAW, params={"draw_id": draw_id}):
        code = row.pop("credit_code")
        out.setdefault(code, []).append(ListItem(**row))
    return out
