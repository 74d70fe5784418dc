"""Plans, frozen and drawn records (immutable once written), their exclusions and selections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row, dict_row
from psycopg.types.json import Jsonb

from domain.draw import ALGORITHM, Drawn, Frozen
from domain.errors import Conflict, NotFound
from domain.i18n import msg
from storage.errors import amapped_errors

UPSERT_PLAN = """
INSERT INTO plans (plan_id, title, spec, rules, cron, timezone, window_days, period_format,
                   public_value_source, active)
VALUES (%(plan_id)s, %(title)s, %(spec)s, %(rules)s, %(cron)s, %(timezone)s, %(window_days)s,
        %(period_format)s, %(public_value_source)s, %(active)s)
ON CONFLICT (plan_id) DO UPDATE SET
    title = EXCLUDED.title, spec = EXCLUDED.spec, rules = EXCLUDED.rules, cron = EXCLUDED.cron,
    timezone = EXCLUDED.timezone, window_days = EXCLUDED.window_days,
    period_format = EXCLUDED.period_format, public_value_source = EXCLUDED.public_value_source,
    active = EXCLUDED.active
"""
GET_PLAN = """
SELECT plan_id, title, spec, rules, cron, timezone, window_days, period_format,
       public_value_source, active, created_at, updated_at
  FROM plans WHERE plan_id = %(plan_id)s
"""
LIST_PLANS = """
SELECT plan_id, title, spec, rules, cron, timezone, window_days, period_format,
       public_value_source, active, created_at, updated_at
  FROM plans WHERE (%(active)s::boolean IS NULL OR active = %(active)s) ORDER BY plan_id
"""
INSERT_FROZEN = """
INSERT INTO draws (plan_id, period, period_start, period_end, algorithm, state, frozen_at,
                   frozen_by, commitment, hash_rules, hash_enterprises, hash_officers,
                   hash_eligibility, frozen_document, secret, attempt, repeat_reason,
                   repeat_note, repeat_by, read_after, public_source)
VALUES (%(plan_id)s, %(period)s, %(period_start)s, %(period_end)s, %(algorithm)s, 'frozen',
        %(frozen_at)s, %(frozen_by)s, %(commitment)s, %(hash_rules)s, %(hash_enterprises)s,
        %(hash_officers)s, %(hash_eligibility)s, %(frozen_document)s, %(secret)s, %(attempt)s,
        %(repeat_reason)s, %(repeat_note)s, %(repeat_by)s, %(read_after)s, %(public_source)s)
ON CONFLICT (plan_id, period_start, period_end, attempt) DO NOTHING
RETURNING id
"""
COPY_EXCLUSIONS = "COPY draw_exclusions (draw_id, kind, subject, reason, detail) FROM STDIN"
RECORD_DRAW = """
UPDATE draws SET state = 'drawn', drawn_at = now(), drawn_by = %(drawn_by)s,
       public_value = %(public_value)s, seed = %(seed)s, status = %(status)s,
       document = %(document)s
 WHERE id = %(id)s AND state = 'frozen'
RETURNING id
"""
COPY_SELECTIONS = """
COPY draw_selections (draw_id, position, credit_code, stratum, rank, staffed, leader, officers,
                      experts, unstaffed) FROM STDIN
"""
GET_DRAW = """
SELECT id, plan_id, period, period_start, period_end, algorithm, state, frozen_at, frozen_by,
       commitment, hash_rules, hash_enterprises, hash_officers, hash_eligibility, drawn_at,
       drawn_by, public_value, seed, status, CASE WHEN state = 'drawn' THEN secret END AS secret,
       attempt, repeat_reason, repeat_note, repeat_by, read_after, public_source
  FROM draws
 WHERE id = %(id)s
"""
FIND_DRAWS = """
SELECT id, plan_id, period, period_start, period_end, algorithm, state, frozen_at, frozen_by,
       commitment, hash_rules, hash_enterprises, hash_officers, hash_eligibility, drawn_at,
       drawn_by, public_value, seed, status, CASE WHEN state = 'drawn' THEN secret END AS secret,
       attempt, repeat_reason, repeat_note, repeat_by, read_after, public_source
  FROM draws
 WHERE plan_id = %(plan_id)s AND period_start <= %(end)s AND period_end >= %(start)s
 ORDER BY period_start, attempt
"""
LOCK_PLAN = "SELECT pg_advisory_xact_lock(hashtext('draws:' || %(plan_id)s))"
COPY_PSEUDONYMS = "COPY draw_pseudonyms (draw_id, pseudonym, officer_id) FROM STDIN"
PSEUDONYMS = "SELECT pseudonym, officer_id FROM draw_pseudonyms WHERE draw_id = %(id)s"
LIST_DRAWS = """
SELECT id, plan_id, period, period_start, period_end, algorithm, state, frozen_at, frozen_by,
       commitment, hash_rules, hash_enterprises, hash_officers, hash_eligibility, drawn_at,
       drawn_by, public_value, seed, status, CASE WHEN state = 'drawn' THEN secret END AS secret,
       attempt, repeat_reason, repeat_note, repeat_by, read_after, public_source
  FROM draws
 WHERE (%(state)s::text IS NULL OR state = %(state)s)
   AND (%(plan_id)s::text IS NULL OR plan_id = %(plan_id)s)
 ORDER BY frozen_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s
"""
GET_FROZEN_FOR_DRAW = """
SELECT frozen_document, secret, state FROM draws WHERE id = %(id)s FOR UPDATE
"""
GET_DOCUMENT = """
SELECT coalesce(document, frozen_document) AS document FROM draws WHERE id = %(id)s
"""
GET_DOCUMENT_FINAL = """
SELECT coalesce(document, frozen_document) AS document, document IS NOT NULL AS final
  FROM draws WHERE id = %(id)s
"""
SELECTIONS = """
SELECT s.position, s.credit_code, e.name, s.stratum, s.rank, s.staffed, s.leader, s.officers,
       s.experts, s.unstaffed
  FROM draw_selections s LEFT JOIN enterprises e USING (credit_code)
 WHERE s.draw_id = %(id)s ORDER BY s.position
"""
EXCLUSIONS = """
SELECT kind, subject, reason, detail FROM draw_exclusions
 WHERE draw_id = %(id)s AND (%(kind)s::text IS NULL OR kind = %(kind)s)
 ORDER BY kind, subject COLLATE "C"
"""


@dataclass(frozen=True, slots=True)
class StoredPlan:
    """A plan row: the submitted spec, the resolved rules template and the schedule."""

    plan_id: str
    title: str
    spec: dict[str, Any]
    rules: dict[str, Any]
    cron: str | None
    timezone: str
    window_days: int
    period_format: str
    public_value_source: str
    active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DrawRecord:
    """A draw's metadata (documents are fetched separately); `secret` only once drawn."""

    id: int
    plan_id: str
    period: str
    period_start: date
    period_end: date
    algorithm: str
    state: str
    frozen_at: datetime
    frozen_by: str
    commitment: str
    hash_rules: str
    hash_enterprises: str
    hash_officers: str
    hash_eligibility: str
    drawn_at: datetime | None
    drawn_by: str | None
    public_value: str | None
    seed: str | None
    status: str | None
    secret: str | None
    attempt: int = 1
    repeat_reason: str | None = None
    #: The supervisor's own words for a repeat: staff only, never published.
    repeat_note: str | None = None
    repeat_by: str | None = None
    read_after: datetime | None = None
    #: v2: the record's public value source (kind, name, round, format, read_after).
    public_source: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Selection:
    """A selected enterprise of a drawn record, with its team or why it has none."""

    position: int
    credit_code: str
    name: str | None
    stratum: str
    rank: str
    staffed: bool
    leader: str | None
    officers: list[str]
    experts: list[str]
    unstaffed: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Exclusion:
    """An enterprise or officer left out of a draw, with the reason and its detail."""

    kind: str
    subject: str
    reason: str
    detail: str


async def save_plan(conn: AsyncConnection[Any], *, values: dict[str, Any]) -> None:
    """Insert or replace a plan row (`values` holds every column of UPSERT_PLAN)."""
    params = {**values, "spec": Jsonb(values["spec"]), "rules": Jsonb(values["rules"])}
    async with amapped_errors():
        await conn.execute(UPSERT_PLAN, params)


async def get_plan(conn: AsyncConnection[Any], *, plan_id: str) -> StoredPlan:
    """One plan; NotFound when absent."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(StoredPlan)) as cur:
        await cur.execute(GET_PLAN, {"plan_id": plan_id})
        plan = await cur.fetchone()
    if plan is None:
        raise NotFound(msg("plan.not_found", plan_id=plan_id))
    return plan


async def list_plans(conn: AsyncConnection[Any], *, active: bool | None = None) -> list[StoredPlan]:
    """All plans (optionally only active or inactive ones), by id."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(StoredPlan)) as cur:
        await cur.execute(LIST_PLANS, {"active": active})
        return await cur.fetchall()


async def lock_plan(conn: AsyncConnection[Any], *, plan_id: str) -> None:
    """Serialise freezes of one plan until the transaction ends (windows must not overlap)."""
    async with amapped_errors():
        await conn.execute(LOCK_PLAN, {"plan_id": plan_id})


async def insert_frozen(
    conn: AsyncConnection[Any],
    *,
    frozen: Frozen,
    secret: bytes,
    period_start: date,
    period_end: date,
    frozen_by: str,
    pseudonyms: dict[str, str],
    repeat_note: str | None = None,
) -> int | None:
    """Store a frozen record, its exclusions and its officers' pseudonyms (pseudonym → id);
    None if this attempt of (plan, window) was frozen already."""
    record = frozen.record
    params = {
        "plan_id": frozen.plan_id,
        "period": frozen.period,
        "period_start": period_start,
        "period_end": period_end,
        "algorithm": ALGORITHM,
        "frozen_at": record.frozen_at,
        "frozen_by": frozen_by,
        "attempt": record.attempt,
        "repeat_reason": record.repeat["reason"] if record.repeat else None,
        "repeat_note": repeat_note if record.repeat else None,
        "repeat_by": frozen_by if record.repeat else None,
        "read_after": record.public_source.read_after,
        "public_source": Jsonb(record.public_source.to_json()),
        "commitment": frozen.commitment,
        "hash_rules": frozen.hashes["rules"],
        "hash_enterprises": frozen.hashes["enterprises"],
        "hash_officers": frozen.hashes["officers"],
        "hash_eligibility": frozen.hashes["eligibility"],
        "frozen_document": frozen.document_bytes() + b"\n",
        "secret": secret.hex(),
    }
    elig = frozen.eligibility
    async with amapped_errors(), conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(INSERT_FROZEN, params)
        row = await cur.fetchone()
        if row is None:
            return None
        draw_id = int(row["id"])
        async with cur.copy(COPY_EXCLUSIONS) as copy:
            for code, reason, detail in elig.excluded_enterprises:
                await copy.write_row((draw_id, "enterprise", code, reason, detail))
            for oid, reason, detail in elig.excluded_officers:
                await copy.write_row((draw_id, "officer", oid, reason, detail))
        async with cur.copy(COPY_PSEUDONYMS) as copy:
            for alias, officer_id in sorted(pseudonyms.items()):
                await copy.write_row((draw_id, alias, officer_id))
    return draw_id


async def pseudonyms(conn: AsyncConnection[Any], *, draw_id: int) -> dict[str, str]:
    """Pseudonym → officer id for one draw (staff only; never published)."""
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(PSEUDONYMS, {"id": draw_id})
        return {str(r["pseudonym"]): str(r["officer_id"]) for r in await cur.fetchall()}


async def frozen_for_draw(conn: AsyncConnection[Any], *, draw_id: int) -> tuple[bytes, bytes]:
    """Lock a frozen record for drawing; return (frozen document, secret). Call in a transaction."""
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(GET_FROZEN_FOR_DRAW, {"id": draw_id})
        row = await cur.fetchone()
    if row is None:
        raise NotFound(msg("draw.not_found", draw_id=draw_id))
    if row["state"] != "frozen":
        raise Conflict(msg("draw.already_drawn", draw_id=draw_id))
    return bytes(row["frozen_document"]), bytes.fromhex(row["secret"])


async def record_draw(
    conn: AsyncConnection[Any],
    *,
    draw_id: int,
    drawn: Drawn,
    drawn_by: str,
    officer_of: dict[str, str],
) -> None:
    """Record the draw on its frozen record, with one selection row per selected enterprise
    (teams by officer id, `officer_of` mapping the document's pseudonyms back)."""
    teams = {t.enterprise: t for t in drawn.teams}
    reasons: dict[str, list[dict[str, Any]]] = {}
    for item in drawn.unstaffed:
        reasons.setdefault(item["enterprise"], []).append(item)
    params = {
        "id": draw_id,
        "drawn_by": drawn_by,
        "public_value": drawn.public_value,
        "seed": drawn.seed,
        "status": "complete" if drawn.complete else "incomplete",
        "document": drawn.document_bytes() + b"\n",
    }
    async with amapped_errors(), conn.transaction(), conn.cursor() as cur:
        await cur.execute(RECORD_DRAW, params)
        if await cur.fetchone() is None:
            raise Conflict(msg("draw.not_awaiting", draw_id=draw_id))
        async with cur.copy(COPY_SELECTIONS) as copy:
            for position, (code, stratum, rank) in enumerate(drawn.selected):
                team = teams.get(code)
                await copy.write_row(
                    (
                        draw_id,
                        position,
                        code,
                        stratum,
                        rank,
                        team is not None,
                        officer_of[team.leader] if team else None,
                        [officer_of[o] for o in team.officers] if team else [],
                        [officer_of[o] for o in team.experts] if team else [],
                        Jsonb(reasons.get(code, [])),
                    )
                )


async def get_draw(conn: AsyncConnection[Any], *, draw_id: int) -> DrawRecord:
    """A draw's metadata; NotFound when absent."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(DrawRecord)) as cur:
        await cur.execute(GET_DRAW, {"id": draw_id})
        record = await cur.fetchone()
    if record is None:
        raise NotFound(msg("draw.not_found", draw_id=draw_id))
    return record


async def find_draws(
    conn: AsyncConnection[Any], *, plan_id: str, start: date, end: date
) -> list[DrawRecord]:
    """Every draw (attempt) of the plan whose window overlaps start…end, oldest first."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(DrawRecord)) as cur:
        await cur.execute(FIND_DRAWS, {"plan_id": plan_id, "start": start, "end": end})
        return await cur.fetchall()


async def list_draws(
    conn: AsyncConnection[Any],
    *,
    state: str | None = None,
    plan_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[DrawRecord]:
    """Draws, newest first; `state="drawn"` for the published results."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(DrawRecord)) as cur:
        await cur.execute(
            LIST_DRAWS, {"state": state, "plan_id": plan_id, "limit": limit, "offset": offset}
        )
        return await cur.fetchall()


async def document(conn: AsyncConnection[Any], *, draw_id: int) -> bytes:
    """The record as published: the draw document once drawn, else the frozen one."""
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(GET_DOCUMENT, {"id": draw_id})
        row = await cur.fetchone()
    if row is None:
        raise NotFound(msg("draw.not_found", draw_id=draw_id))
    return bytes(row["document"])


async def published_document(conn: AsyncConnection[Any], *, draw_id: int) -> tuple[bytes, bool]:
    """The record as published and whether it is final (drawn: it never changes again)."""
    async with amapped_errors(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(GET_DOCUMENT_FINAL, {"id": draw_id})
        row = await cur.fetchone()
    if row is None:
        raise NotFound(msg("draw.not_found", draw_id=draw_id))
    return bytes(row["document"]), bool(row["final"])


async def selections(conn: AsyncConnection[Any], *, draw_id: int) -> list[Selection]:
    """The selected enterprises of a draw in team order, with teams or unstaffed reasons."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(Selection)) as cur:
        await cur.execute(SELECTIONS, {"id": draw_id})
        return await cur.fetchall()


async def exclusions(
    conn: AsyncConnection[Any], *, draw_id: int, kind: str | None = None
) -> list[Exclusion]:
    """Enterprises and/or officers left out of a draw, with reasons."""
    async with amapped_errors(), conn.cursor(row_factory=class_row(Exclusion)) as cur:
        await cur.execute(EXCLUSIONS, {"id": draw_id, "kind": kind})
        return await cur.fetchall()
