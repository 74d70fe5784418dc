"""Plans, freezes and draws in PostgreSQL: verifiable, exactly once, immutable, caps counted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from psycopg_pool import AsyncConnectionPool

from config.policy_sampling import PlanFile, load_sampling_policy
from domain.directory import InspectionHistory, InspectionItem, InspectionMethod, ItemId
from domain.draw import verify_bytes
from domain.draw.public_value import PublicSource
from domain.draw.synthetic import make_enterprises, make_officers
from domain.errors import Conflict, Immutable
from services import draw_lists
from services import draws as draw_service
from services.draws import DrawPolicy, Period
from storage import directory, draws, inspections
from storage.errors import amapped_errors

POLICY = load_sampling_policy()
PERIOD = Period(date(2025, 3, 1), date(2025, 3, 31))
KEY = bytes(range(100, 132))
#: Production: two steps, a public value named at freeze. Test setting: one step, none needed.
PROD = DrawPolicy(KEY)
TEST = DrawPolicy(KEY, test_setting=True)
FROZEN_AT = datetime(2025, 2, 28, 8, 0, tzinfo=UTC)
LOTTERY = PublicSource(
    "lottery", "中国福利彩票双色球", "2025024", datetime(2025, 3, 2, 13, 30, tzinfo=UTC)
)
AFTER = datetime(2025, 3, 2, 14, 0, tzinfo=UTC)
COPY_ENTERPRISES = """
COPY enterprises (credit_code, name, county, sector, risk_colour, credit_class, operating_state,
                  deregistered) FROM STDIN
"""


def plan_spec(**changes: object) -> PlanFile:
    """A joint plan of two departments over the whole directory."""
    base = {
        "plan_id": "HZ-JOINT",
        "title": "联合双随机抽查",
        "team": {"departments": ["应急管理局", "市场监管局"]},
        "workload_cap": 6,
        "strata": [{"ratio": "0.2"}],
    }
    return PlanFile.model_validate({**base, **changes})


async def load_directory(
    pool: AsyncConnectionPool, count: int = 200
) -> tuple[list, dict[str, InspectionHistory]]:
    """Enterprises (COPY) and officers (repository) of a synthetic directory."""
    ents, history = make_enterprises(count, seed=21)
    offs = make_officers(10, [e.credit_code for e in ents], seed=22, experts=2)
    async with pool.connection() as conn:
        async with conn.cursor() as cur, cur.copy(COPY_ENTERPRISES) as copy:
            for e in ents:
                await copy.write_row(
                    (
                        e.credit_code,
                        e.name,
                        e.county,
                        e.sector,
                        e.risk_colour,
                        e.credit_class,
                        e.operating_state,
                        e.deregistered,
                    )
                )
        assert await directory.upsert_officers(conn, officers=offs) == (len(offs), 0)
        await draw_service.save_plan(conn, spec=plan_spec(), policy=POLICY)
    return ents, history


async def test_freeze_then_draw_once_and_verify(pool: AsyncConnectionPool) -> None:
    await load_directory(pool)
    async with pool.connection() as conn:
        frozen = await draw_service.freeze_period(
            conn,
            plan_id="HZ-JOINT",
            period=PERIOD,
            actor="tester",
            policy=PROD,
            source=LOTTERY,
            now=FROZEN_AT,
        )
        assert frozen.state == "frozen"
        assert frozen.secret is None  # never shown before the draw
        doc = await draws.document(conn, draw_id=frozen.id)
        assert verify_bytes(doc) is None
        again = await draw_service.freeze_period(
            conn, plan_id="HZ-JOINT", period=PERIOD, actor="tester", policy=PROD, source=LOTTERY
        )
        assert again.id == frozen.id
        excluded = await draws.exclusions(conn, draw_id=frozen.id)
        assert {x.reason for x in excluded} >= {"deregistered", "shutdown"}
    async with pool.connection() as conn:
        with pytest.raises(Conflict, match="之后读取"):
            await draw_service.perform_draw(
                conn, draw_id=frozen.id, public_value="12 21 33", actor="tester", now=FROZEN_AT
            )
    async with pool.connection() as conn:
        drawn = await draw_service.perform_draw(
            conn, draw_id=frozen.id, public_value="12 21 33", actor="tester", now=AFTER
        )
    assert drawn.state == "drawn"
    assert drawn.secret is not None
    assert drawn.commitment == frozen.commitment
    async with pool.connection() as conn:
        doc = await draws.document(conn, draw_id=frozen.id)
        assert verify_bytes(doc) is None
        picked = await draws.selections(conn, draw_id=frozen.id)
        assert picked
        assert all(p.staffed and p.leader == p.officers[0] for p in picked)
        created = await inspections.for_draw(conn, draw_id=frozen.id)
        assert {i.credit_code for i in created} == {p.credit_code for p in picked}
        assert all(i.leader == i.staff[0] for i in created)
        with pytest.raises(Conflict):
            await draw_service.perform_draw(
                conn, draw_id=frozen.id, public_value="1", actor="tester", now=AFTER
            )
        listed = await draws.list_draws(conn, state="drawn")
        assert [d.id for d in listed] == [frozen.id]
        # announced through services.changes once each: the repeated freeze and the refused
        # draws announce nothing
        announced = await (
            await conn.execute(
                "SELECT kind, payload->>'draw_id' FROM live_changes"
                " WHERE kind LIKE 'draw.%' ORDER BY id"
            )
        ).fetchall()
        assert announced == [("draw.frozen", str(frozen.id)), ("draw.drawn", str(frozen.id))]


async def test_published_records_are_immutable_in_the_database(pool: AsyncConnectionPool) -> None:
    await load_directory(pool)
    async with pool.connection() as conn:
        record = await draw_service.draw_now(
            conn, plan_id="HZ-JOINT", period=PERIOD, public_value="", actor="tester", policy=TEST
        )
    statements = [
        "UPDATE draws SET public_value = 'changed' WHERE id = %(id)s",
        "UPDATE draws SET state = 'frozen', drawn_at = NULL WHERE id = %(id)s",
        "DELETE FROM draws WHERE id = %(id)s",
        "UPDATE draw_selections SET leader = 'O00001' WHERE draw_id = %(id)s",
        "UPDATE draw_pseudonyms SET officer_id = 'O00001' WHERE draw_id = %(id)s",
        "UPDATE draws SET attempt = 2 WHERE id = %(id)s",
        "DELETE FROM draw_exclusions WHERE draw_id = %(id)s",
        "TRUNCATE draws CASCADE",
    ]
    for statement in statements:
        async with pool.connection() as conn:
            with pytest.raises(Immutable):
                async with amapped_errors():
                    await conn.execute(statement, {"id": record.id})
    async with pool.connection() as conn:
        frozen = await draw_service.freeze_period(
            conn,
            plan_id="HZ-JOINT",
            period=Period(date(2025, 4, 1), date(2025, 4, 30)),
            actor="t",
            policy=TEST,
        )
    async with pool.connection() as conn:
        with pytest.raises(Immutable):
            async with amapped_errors():
                await conn.execute(
                    "UPDATE draws SET frozen_document = 'x' WHERE id = %(id)s", {"id": frozen.id}
                )


async def test_yearly_cap_counts_every_inspection_and_workload_carries_over(
    pool: AsyncConnectionPool,
) -> None:
    ents, _ = await load_directory(pool, count=60)
    usual = [e for e in ents if not e.deregistered and e.operating_state == "operating"]
    target = usual[0].credit_code
    async with pool.connection() as conn:
        for day in (5, 20):
            await inspections.record_other(
                conn,
                credit_code=target,
                source="complaint",
                departments=["应急管理局"],
                planned_from=date(2025, 1, day),
                planned_to=date(2025, 1, day),
                inspected_on=date(2025, 1, day),
                status="done",
                staff=[("O00001", "leader")],
            )
        await inspections.record_other(
            conn,
            credit_code=usual[1].credit_code,
            source="special",
            departments=["市场监管局"],
            planned_from=date(2025, 3, 10),
            planned_to=date(2025, 3, 12),
            staff=[("O00002", "leader"), ("O00004", "member")],
        )
        assert await inspections.count_this_year(conn, credit_code=target, year=2025) == 2
        ent_rows, off_rows = await directory.population(
            conn, period_start=PERIOD.start, period_end=PERIOD.end
        )
        row = next(r for r in ent_rows if r[0] == target)
        assert row[8:] == [2, "2025-01-20"]
        loads = {r[0]: r[8] for r in off_rows}
        assert loads["O00002"] == 1
        assert loads["O00001"] == 0  # January is outside March's window
        record = await draw_service.freeze_period(
            conn, plan_id="HZ-JOINT", period=PERIOD, actor="t", policy=TEST
        )
        excluded = {x.subject: x for x in await draws.exclusions(conn, draw_id=record.id)}
    assert excluded[target].reason == "yearly_cap_reached"
    assert excluded[target].detail == "2"


async def test_officers_and_items_round_trip(pool: AsyncConnectionPool) -> None:
    await load_directory(pool, count=20)
    async with pool.connection() as conn:
        first = await directory.get_officer(conn, officer_id="O00003")
        changed = replace(first, active=False, conflicts=())
        assert await directory.upsert_officers(conn, officers=[changed]) == (0, 1)
        assert await directory.get_officer(conn, officer_id="O00003") == changed
        listed = await directory.list_officers(conn, department="应急管理局", limit=500)
        assert listed
        assert all(o.department == "应急管理局" for o in listed)
        basis = "《安全生产许可证条例》第二条"
        item = InspectionItem(
            ItemId("I1"), "安全生产许可", "许可证有效", basis, ("*",), InspectionMethod.ONSITE
        )
        assert await directory.upsert_items(conn, items=[item]) == (1, 0)
        assert await directory.list_items(conn) == [item]


async def test_inspection_lists_and_notices_for_a_draw(pool: AsyncConnectionPool) -> None:
    await load_directory(pool, count=80)
    item = InspectionItem(
        ItemId("I1"),
        "教育培训",
        "主要负责人考核",
        "《安全生产法》第二十七条",
        ("*",),
        InspectionMethod.DOCUMENT,
    )
    async with pool.connection() as conn:
        await directory.upsert_items(conn, items=[item])
        record = await draw_service.draw_now(
            conn, plan_id="HZ-JOINT", period=PERIOD, public_value="", actor="t", policy=TEST
        )
        # Edited after the draw: the draw's inspections keep (and print) the list they were given.
        edited = replace(item, legal_basis="《安全生产法》第二十八条", sub_item="已改")
        later = replace(item, item_id=ItemId("I2"))
        await directory.upsert_items(conn, items=[edited, later])
        lists = await draw_lists.inspection_lists(conn, draw_id=record.id)
        notes = await draw_lists.task_notices(
            conn, draw_id=record.id, authority="某区应急管理局", prefix="抽〔2025〕"
        )
        picked = [s for s in await draws.selections(conn, draw_id=record.id) if s.staffed]
    assert [x.credit_code for x in lists] == [s.credit_code for s in picked]
    assert all(x.items[0].legal_basis == "《安全生产法》第二十七条" for x in lists)
    assert all([i.item_id for i in x.items] == ["I1"] for x in lists)
    assert all(x.items[0].method == "书面检查" for x in lists)
    assert all(x.window_from == PERIOD.start for x in lists)
    assert len(notes) == len(lists)
    assert notes[-1].notice_no == f"抽〔2025〕第{len(lists):03d}号"
