"""Version-2 draws in PostgreSQL: one per plan and window, repeats only with a supervisor's
reason (both published), two steps with the commitment between them, a public value that must
be named, witnesses, and a published record without personal data that still verifies."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from datetime import date, timedelta

import pytest
from psycopg_pool import AsyncConnectionPool

from domain.clock import utcnow
from domain.draw import verify_bytes
from domain.draw.public_value import reveal, witness_commitment
from domain.errors import Conflict, ValidationFailed
from services import draws as draw_service
from services.draws import Period, Repeat
from storage import directory, draws, inspections
from tests.integration.test_draw_storage import (
    AFTER,
    FROZEN_AT,
    KEY,
    LOTTERY,
    PERIOD,
    PROD,
    TEST,
    load_directory,
)


async def _freeze_and_draw(pool: AsyncConnectionPool, **freeze: object) -> int:
    async with pool.connection() as conn:
        record = await draw_service.freeze_period(
            conn,
            plan_id="HZ-JOINT",
            period=PERIOD,
            actor="tester",
            policy=PROD,
            source=LOTTERY,
            now=FROZEN_AT,
            **freeze,  # type: ignore[arg-type]
        )
    async with pool.connection() as conn:
        await draw_service.perform_draw(
            conn, draw_id=record.id, public_value="03 11 27", actor="tester", now=AFTER
        )
    return record.id


async def test_a_window_is_drawn_once_and_a_repeat_needs_a_supervisors_reason(
    pool: AsyncConnectionPool,
) -> None:
    await load_directory(pool)
    first = await _freeze_and_draw(pool)
    async with pool.connection() as conn:
        with pytest.raises(Conflict, match="重抽须由主管填写理由"):
            await draw_service.draw_now(
                conn, plan_id="HZ-JOINT", period=PERIOD, public_value="1", actor="x", policy=PROD
            )
        with pytest.raises(ValidationFailed, match="理由"):
            await draw_service.freeze_period(
                conn,
                plan_id="HZ-JOINT",
                period=PERIOD,
                actor="supervisor",
                policy=PROD,
                source=LOTTERY,
                repeat=Repeat("staffing_failure", "  "),
                now=FROZEN_AT,
            )
        with pytest.raises(Conflict, match="重叠"):
            await draw_service.freeze_period(
                conn,
                plan_id="HZ-JOINT",
                period=Period(date(2025, 3, 15), date(2025, 4, 14)),
                actor="x",
                policy=TEST,
            )
    second = await _freeze_and_draw(
        pool, repeat=Repeat("staffing_failure", "两名执法人员病假，经局务会同意重抽")
    )
    async with pool.connection() as conn:
        one = await draws.get_draw(conn, draw_id=first)
        two = await draws.get_draw(conn, draw_id=second)
        documents = [await draws.document(conn, draw_id=i) for i in (first, second)]
        listed = await draws.list_draws(conn, plan_id="HZ-JOINT")
    assert {d.id for d in listed} == {first, second}  # both stay published
    assert (one.attempt, two.attempt) == (1, 2)
    assert two.repeat_reason == "staffing_failure"
    assert two.repeat_note == "两名执法人员病假，经局务会同意重抽"
    repeat = json.loads(documents[1])["repeat"]
    assert repeat == {"previous_commitment": one.commitment, "reason": "staffing_failure"}
    assert "病假" not in documents[1].decode()  # the note is for staff, never published
    assert all(verify_bytes(d) is None for d in documents)


async def test_production_refuses_no_public_value_and_never_draws_in_the_freezing_request(
    pool: AsyncConnectionPool,
) -> None:
    await load_directory(pool)
    async with pool.connection() as conn:
        with pytest.raises(ValidationFailed, match="公开随机数来源"):
            await draw_service.freeze_period(
                conn, plan_id="HZ-JOINT", period=PERIOD, actor="x", policy=PROD
            )
        soon = replace(LOTTERY, read_after=utcnow() + timedelta(days=1))
        frozen = await draw_service.draw_now(
            conn,
            plan_id="HZ-JOINT",
            period=PERIOD,
            public_value="1 2 3",
            actor="x",
            policy=PROD,
            source=soon,
        )
    assert frozen.state == "frozen"  # the commitment is out; nobody has drawn yet
    async with pool.connection() as conn:
        doc = json.loads(await draws.document(conn, draw_id=frozen.id))
    assert doc["public_source"]["name"] == "中国福利彩票双色球"
    assert doc["frozen_at"] < doc["public_source"]["read_after"]
    async with pool.connection() as conn:
        with pytest.raises(Conflict, match="之后读取"):  # the second request comes too early
            await draw_service.draw_now(
                conn,
                plan_id="HZ-JOINT",
                period=PERIOD,
                public_value="1 2 3",
                actor="x",
                policy=PROD,
                source=soon,
            )


async def test_witnesses_commit_at_freeze_and_reveal_at_the_draw(pool: AsyncConnectionPool) -> None:
    await load_directory(pool)
    notary = hashlib.sha256(b"notary's coin tosses").digest()
    async with pool.connection() as conn:
        record = await draw_service.freeze_period(
            conn,
            plan_id="HZ-JOINT",
            period=PERIOD,
            actor="x",
            policy=PROD,
            source=LOTTERY,
            witnesses=[["notary", witness_commitment(notary)]],
            now=FROZEN_AT,
        )
    async with pool.connection() as conn:
        with pytest.raises(ValidationFailed, match="见证人"):
            await draw_service.perform_draw(
                conn, draw_id=record.id, public_value="1", actor="x", now=AFTER
            )
    async with pool.connection() as conn:
        await draw_service.perform_draw(
            conn,
            draw_id=record.id,
            public_value="1",
            actor="x",
            witness_secrets=[notary],
            now=AFTER,
        )
        doc = await draws.document(conn, draw_id=record.id)
    assert json.loads(doc)["witness_secrets"] == [notary.hex()]
    assert verify_bytes(doc) is None


async def test_the_published_record_holds_no_personal_data_and_still_verifies(
    pool: AsyncConnectionPool,
) -> None:
    await load_directory(pool)
    phone, id_number = "13912345678", "652301199001011234"
    async with pool.connection() as conn:  # a contact with a phone and an ID number, on file
        await conn.execute(
            "UPDATE enterprises SET contacts = %(c)s::jsonb",
            {"c": json.dumps([{"name": "张安全", "phone": phone, "role": id_number}])},
        )
    draw_id = await _freeze_and_draw(pool)
    async with pool.connection() as conn:
        data = await draws.document(conn, draw_id=draw_id)
        officers = await directory.list_officers(conn, limit=500)
        created = await inspections.for_draw(conn, draw_id=draw_id)
    text = data.decode("utf-8")
    assert verify_bytes(data) is None
    ids = {o.officer_id for o in officers}
    for o in officers:
        assert o.name not in text
        assert not o.certificate_no or o.certificate_no not in text
        assert f'"{o.officer_id}"' not in text
        assert all(c.reason not in text for c in o.conflicts if c.reason)
    assert phone not in text
    assert id_number not in text
    assert "张安全" not in text
    assert not re.search(r'"1[3-9]\d{9}"', text)  # no value shaped like a mobile number
    doc = json.loads(data)
    assert all(len(r) == 10 and r[0].startswith("P") for r in doc["officers"]["rows"])
    assert all(reason in {"under_investigation", "other"} for _, reason in doc["rules"]["excluded"])
    # The inspections know the real officers; a notary with the key maps pseudonyms back.
    assert {s for i in created for s in i.staff} <= ids
    back = reveal(KEY, doc["plan_id"], doc["period"], doc["attempt"], sorted(ids))
    assert {r[0] for r in doc["officers"]["rows"]} == set(back)
