"""The inspection-item list (抽查事项清单) each drawn inspection carries, with the entries of the
checklist catalogue its items link to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import class_row

from storage.errors import amapped_errors

#: The items of the inspection-item list that apply to the inspection's enterprise, copied as they
#: are now (the rule of domain.directory.InspectionItem.applies_to: "*" or the sector).
COPY_FOR_INSPECTION = """
INSERT INTO inspection_list_items (inspection_id, item_id, item, sub_item, legal_basis)
SELECT i.id, it.item_id, it.item, it.sub_item, it.legal_basis
  FROM inspections i
  JOIN enterprises e USING (credit_code)
  JOIN inspection_items it ON '*' = ANY (it.sectors) OR e.sector = ANY (it.sectors)
 WHERE i.id = %(inspection_id)s
ON CONFLICT DO NOTHING
"""
#: The list of one inspection, with the catalogue entries each item links to now.
FOR_INSPECTION = """
SELECT l.item_id, l.item, l.sub_item, l.legal_basis,
       coalesce(it.checklist_codes, '{}') AS checklist_codes
  FROM inspection_list_items l
  LEFT JOIN inspection_items it USING (item_id)
 WHERE l.inspection_id = %(inspection_id)s
 ORDER BY l.item_id COLLATE "C"
"""


@dataclass(frozen=True, slots=True)
class ListItem:
    """One item of a drawn inspection's list."""

    item_id: str
    item: str
    sub_item: str
    legal_basis: str
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
