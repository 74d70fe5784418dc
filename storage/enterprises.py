"""Repository of the enterprise directory as the HTTP API reads and edits it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import class_row, dict_row
from psycopg.types.json import Jsonb

from storage.errors import amapped_errors, mapped_errors
from storage.rows import fetch_all, fetch_one, fetch_value

SEARCH = """
SELECT credit_code, name, county, address, sector, risk_colour, credit_class,
       standardisation_grade, major_hazard_level, high_risk, operating_state, deregistered,
       contacts, licences, created_at, updated_at
  FROM enterprises
 WHERE (%(county)s::text IS NULL OR county = %(county)s)
   AND (%(sector)s::text IS NULL OR sector = %(sector)s)
   AND (%(risk_colour)s::text IS NULL OR risk_colour = %(risk_colour)s)
   AND (%(state)s::text IS NULL OR operating_state = %(state)s)
   AND (%(high_risk)s::boolean IS NULL OR high_risk = %(high_risk)s)
   AND (%(deregistered)s::boolean IS NULL OR deregistered = %(deregistered)s)
   AND (%(q)s::text IS NULL OR name ILIKE %(q)s OR credit_code ILIKE %(q)s)
   AND (%(credit_code)s::text IS NULL OR credit_code = %(credit_code)s)
 ORDER BY credit_code
 LIMIT %(limit)s OFFSET %(offset)s
"""
COUNT = """
SELECT count(*) AS total FROM enterprises
 WHERE (%(county)s::text IS NULL OR county = %(county)s)
   AND (%(sector)s::text IS NULL OR sector = %(sector)s)
   AND (%(risk_colour)s::text IS NULL OR risk_colour = %(risk_colour)s)
   AND (%(state)s::text IS NULL OR operating_state = %(state)s)
   AND (%(high_risk)s::boolean IS NULL OR high_risk = %(high_risk)s)
   AND (%(deregistered)s::boolean IS NULL OR deregistered = %(deregistered)s)
   AND (%(q)s::text IS NULL OR name ILIKE %(q)s OR credit_code ILIKE %(q)s)
   AND (%(credit_code)s::text IS NULL OR credit_code = %(credit_code)s)
"""
GET = """
SELECT credit_code, name, county, address, sector, risk_colour, credit_class,
       standardisation_grade, major_hazard_level, high_risk, operating_state, deregistered,
       contacts, licences, created_at, updated_at
  FROM enterprises WHERE credit_code = %(credit_code)s
"""
EXISTS = """
SELECT EXISTS (SELECT 1 FROM enterprises WHERE credit_code = %(credit_code)s) AS present
"""
INSERT = """
INSERT INTO enterprises (credit_code, name, county, address, sector, risk_colour, credit_class,
                         standardisation_grade, major_hazard_level, high_risk, operating_state,
                         deregistered, contacts, licences)
VALUES (%(credit_code)s, %(name)s, %(county)s, %(address)s, %(sector)s, %(risk_colour)s,
        %(credit_class)s, %(standardisation_grade)s, %(major_hazard_level)s, %(high_risk)s,
        %(operating_state)s, %(deregistered)s, %(contacts)s, %(licences)s)
RETURNING credit_code, name, county, address, sector, risk_colour, credit_class,
          standardisation_grade, major_hazard_level, high_risk, operating_state, deregistered,
          contacts, licences, created_at, updated_at
"""
UPSERT = """
INSERT INTO enterprises (credit_code, name, county, address, sector, risk_colour, credit_class,
                         standardisation_grade, major_hazard_level, high_risk, operating_state,
                         deregistered, contacts, licences)
VALUES (%(credit_code)s, %(name)s, %(county)s, %(address)s, %(sector)s, %(risk_colour)s,
        %(credit_class)s, %(standardisation_grade)s, %(major_hazard_level)s, %(high_risk)s,
        %(operating_state)s, %(deregistered)s, %(contacts)s, %(licences)s)
ON CONFLICT (credit_code) DO UPDATE
   SET name = EXCLUDED.name, county = EXCLUDED.county, address = EXCLUDED.address,
       sector = EXCLUDED.sector, risk_colour = EXCLUDED.risk_colour,
       credit_class = EXCLUDED.credit_class,
       standardisation_grade = EXCLUDED.standardisation_grade,
       major_hazard_level = EXCLUDED.major_hazard_level, high_risk = EXCLUDED.high_risk,
       operating_state = EXCLUDED.operating_state, deregistered = EXCLUDED.deregistered,
       contacts = EXCLUDED.contacts, licences = EXCLUDED.licences
RETURNING (xmax = 0) AS inserted
"""
UPDATE = """
UPDATE enterprises
   SET name = %(name)s, county = %(county)s, address = %(address)s, sector = %(sector)s,
       risk_colour = %(risk_colour)s, credit_class = %(credit_class)s,
       standardisation_grade = %(standardisation_grade)s,
       major_hazard_level = %(major_hazard_level)s, high_risk = %(high_risk)s,
       operating_state = %(operating_state)s, deregistered = %(deregistered)s,
       contacts = %(contacts)s, licences = %(licences)s
 WHERE credit_code = %(credit_code)s
RETURNING credit_code, name, county, address, sector, risk_colour, credit_class,
          standardisation_grade, major_hazard_level, high_risk, operating_state, deregistered,
          contacts, licences, created_at, updated_at
"""
FACETS = """
SELECT 'county' AS facet, county AS value, count(*) AS n FROM enterprises GROUP BY county
UNION ALL
SELECT 'sector', sector, count(*) FROM enterprises GROUP BY sector
ORDER BY facet, value
"""

KNOWN = "SELECT credit_code FROM enterprises WHERE NOT deregistered"
ACTIVE = "SELECT NOT deregistered AS active FROM enterprises WHERE credit_code = %(code)s"
NAMES = "SELECT credit_code, name FROM enterprises WHERE credit_code = ANY(%(codes)b::text[])"
NAME = "SELECT name FROM enterprises WHERE credit_code = %(code)s"
ACTIVE_CODES = """
SELECT credit_code FROM enterprises WHERE NOT deregistered ORDER BY credit_code
"""

#: The fields a caller writes (everything but the timestamps).
FIELDS = (
    "credit_code",
    "name",
    "county",
    "address",
    "sector",
    "risk_colour",
    "credit_class",
    "standardisation_grade",
    "major_hazard_level",
    "high_risk",
    "operating_state",
    "deregistered",
    "contacts",
    "licences",
)


@dataclass(frozen=True, slots=True)
class EnterpriseRecord:
    """One row of the directory."""

    credit_code: str
    name: str
    county: str
    address: str
    sector: str
    risk_colour: str
    credit_class: str
    standardisation_grade: str | None
    major_hazard_level: int | None
    high_risk: bool
    operating_state: str
    deregistered: bool
    contacts: list[dict[str, Any]]
    licences: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime

    def fields(self) -> dict[str, Any]:
        """The writable fields as a dict (for audit before/after and updates)."""
        return {name: getattr(self, name) for name in FIELDS}


def _params(values: dict[str, Any]) -> dict[str, Any]:
    params = {name: values.get(name) for name in FIELDS}
    params["contacts"] = Jsonb(values.get("contacts") or [])
    params["licences"] = Jsonb(values.get("licences") or [])
    return params


def _like(q: str | None) -> str | None:
    if not q:
        return None
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def search(
    conn: AsyncConnection[Any],
    *,
    county: str | None = None,
    sector: str | None = None,
    risk_colour: str | None = None,
    state: str | None = None,
    high_risk: bool | None = None,
    deregistered: bool | None = None,
    q: str | None = None,
    credit_code: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[EnterpriseRecord], int]:
    """Enterprises matching the filters, by credit code, and their total count."""
    params = {
        "county": county,
        "sector": sector,
        "risk_colour": risk_colour,
        "state": state,
        "high_risk": high_risk,
        "deregistered": deregistered,
        "q": _like(q),
        "credit_code": credit_code,
        "limit": limit,
        "offset": offset,
    }
    async with amapped_errors(), conn.cursor(row_factory=class_row(EnterpriseRecord)) as cur:
        await cur.execute(SEARCH, params)
        rows = await cur.fetchall()
    total = await fetch_one(conn, statement=COUNT, params=params)
    return rows, int(total["total"]) if total else 0


async def get(conn: AsyncConnection[Any], *, credit_code: str) -> EnterpriseRecord | None:
    """The enterprise with that code, or None."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(EnterpriseRecord)) as cur:
        await cur.execute(GET, {"credit_code": credit_code})
        return await cur.fetchone()


async def exists(conn: AsyncConnection[Any], *, credit_code: str) -> bool:
    """Whether the directory holds that code."""
    row = await fetch_one(conn, statement=EXISTS, params={"credit_code": credit_code})
    return bool(row and row["present"])


async def insert(conn: AsyncConnection[Any], *, values: dict[str, Any]) -> EnterpriseRecord:
    """Insert one enterprise; Conflict when the code exists."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(EnterpriseRecord)) as cur:
        await cur.execute(INSERT, _params(values))
        row = await cur.fetchone()
    assert row is not None
    return row


async def update(conn: AsyncConnection[Any], *, values: dict[str, Any]) -> EnterpriseRecord | None:
    """Replace the writable fields of the enterprise `values['credit_code']`."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(EnterpriseRecord)) as cur:
        await cur.execute(UPDATE, _params(values))
        return await cur.fetchone()


async def upsert_many(conn: AsyncConnection[Any], *, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Insert or update by credit code; return (created, updated)."""
    created = 0
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        for values in rows:
            await cur.execute(UPSERT, _params(values))
            row = await cur.fetchone()
            created += bool(row and row["inserted"])
    return created, len(rows) - created


async def facets(conn: AsyncConnection[Any]) -> dict[str, dict[str, int]]:
    """Distinct counties and sectors with their counts (for filter pickers)."""
    out: dict[str, dict[str, int]] = {"county": {}, "sector": {}}
    for row in await fetch_all(conn, statement=FACETS):
        out[str(row["facet"])][str(row["value"])] = int(row["n"])
    return out


async def known_enterprises(conn: AsyncConnection[Any]) -> set[str]:
    """Credit codes of every enterprise that may send messages."""
    return {str(r["credit_code"]) for r in await fetch_all(conn, statement=KNOWN)}


async def enterprise_active(conn: AsyncConnection[Any], *, code: str) -> bool:
    """Whether the enterprise exists and is not deregistered."""
    return bool(await fetch_value(conn, statement=ACTIVE, params={"code": code}))


async def enterprise_name(conn: AsyncConnection[Any], *, code: str) -> str | None:
    """The directory name of an enterprise, None if it is not in the directory."""
    row = await fetch_one(conn, statement=NAME, params={"code": code})
    return str(row["name"]) if row else None


async def names(conn: AsyncConnection[Any], *, codes: Sequence[str]) -> dict[str, str]:
    """Directory names of several enterprises."""
    if not codes:
        return {}
    rows = await fetch_all(conn, statement=NAMES, params={"codes": sorted(set(codes))})
    return {str(r["credit_code"]): str(r["name"]) for r in rows}


def active_codes(url: str) -> list[str]:
    """Credit codes of every enterprise not deregistered (synchronous, for the CLI)."""
    with mapped_errors(), psycopg.connect(url, connect_timeout=5, row_factory=dict_row) as conn:
        return [str(r["credit_code"]) for r in conn.execute(ACTIVE_CODES).fetchall()]
