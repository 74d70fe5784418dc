"""Small populations, plans and helpers shared by the draw unit tests."""

from __future__ import annotations

import hashlib
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from domain.credit_code import make_credit_code
from domain.directory import (
    Conflict,
    Enterprise,
    EnterpriseCode,
    InspectionHistory,
    Officer,
    OfficerId,
)
from domain.draw import Drawn, Record, commitment_of, draw, freeze
from domain.draw.public_value import PublicSource
from domain.draw.snapshot import enterprise_rows, officer_rows
from domain.plan import DrawMode, DrawRules, ShutdownPolicy, Stratum, TeamRule

COUNTIES = ("330102", "330103", "330104")
START = date(2025, 3, 1)
VERIFIER = Path(__file__).resolve().parents[2] / "domain" / "draw" / "verifier.py"
DEPTS = ("应急管理局", "市场监管局")
FROZEN_AT = datetime(2025, 2, 28, 8, 0, tzinfo=UTC)
LOTTERY = PublicSource(
    "lottery", "中国福利彩票双色球", "2025023", datetime(2025, 3, 1, 13, 30, tzinfo=UTC)
)
RECORD = Record(public_source=LOTTERY, frozen_at=FROZEN_AT)


def secret_for(i: int) -> bytes:
    """A deterministic 32-byte secret for test draw number i."""
    return hashlib.sha256(f"secret-{i}".encode()).digest()


def code(i: int, county: str = "330102") -> EnterpriseCode:
    """A valid credit code for enterprise number i."""
    return EnterpriseCode(make_credit_code(county, i))


def rules(**changes: object) -> DrawRules:
    """Joint two-department rules for March 2025 with two strata; override any field."""
    base = DrawRules(
        period_start=date(2025, 3, 1),
        period_end=date(2025, 3, 31),
        counties=(),
        sectors=(),
        mode=DrawMode.RANDOM,
        fixed_list=(),
        strata=(
            Stratum("*", "red", "*", "0.5"),
            Stratum("*", "*", "*", "0.25"),
        ),
        yearly_cap=2,
        cooldown_days=90,
        team=TeamRule(size=2, departments=DEPTS, quotas=(1, 1), experts=0),
        workload_cap=3,
        own_county_rule=False,
        shutdown_policy=ShutdownPolicy.EXCLUDE,
        shutdown_states=("shutdown",),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def enterprises(
    count: int = 12, counties: tuple[str, ...] = ("330102", "330103")
) -> list[Enterprise]:
    """`count` operating enterprises, every third one red."""
    return [
        Enterprise(
            credit_code=code(i + 1, counties[i % len(counties)]),
            name=f"测试企业{i + 1}",
            county=counties[i % len(counties)],
            sector="危化品经营",
            risk_colour="red" if i % 3 == 0 else "blue",
            credit_class="B",
        )
        for i in range(count)
    ]


def officers(
    per_dept: int = 4,
    counties: tuple[str, ...] = ("330102", "330103"),
    conflicts: dict[int, list[EnterpriseCode]] | None = None,
) -> list[Officer]:
    """`per_dept` certified officers in each department; conflicts by officer number."""
    conflicts = conflicts or {}
    out = []
    for k in range(per_dept * len(DEPTS)):
        oid = OfficerId(f"O{k + 1:03d}")
        out.append(
            Officer(
                officer_id=oid,
                name=f"执法人员{k + 1}",
                department=DEPTS[k % len(DEPTS)],
                county=counties[k % len(counties)],
                certificate_no=f"浙{k + 1:06d}",
                certificate_valid_from=date(2024, 1, 1),
                certificate_valid_to=date(2026, 12, 31),
                conflicts=tuple(Conflict(oid, c, "亲属") for c in conflicts.get(k + 1, [])),
            )
        )
    return out


def run(
    rules_: DrawRules | None = None,
    ents: list[Enterprise] | None = None,
    offs: list[Officer] | None = None,
    *,
    history: dict[EnterpriseCode, InspectionHistory] | None = None,
    secret: bytes | None = None,
    public_value: str = "07 12 19 23 31 + 05",
    plan_id: str = "TEST-1",
    period: str = "2025-03",
    record: Record = RECORD,
) -> Drawn:
    """Freeze and draw in one go (tests only: the service freezes and draws in two steps)."""
    secret = secret or secret_for(0)
    fz = freeze(
        plan_id=plan_id,
        period=period,
        rules=rules_ or rules(),
        enterprise_rows=enterprise_rows(ents if ents is not None else enterprises(), history),
        officer_rows=officer_rows(offs if offs is not None else officers()),
        commitment=commitment_of(secret),
        record=record,
    )
    return draw(fz, secret=secret, public_value=public_value)


def document(drawn: Drawn) -> bytes:
    """The draw.json bytes."""
    return drawn.document_bytes() + b"\n"


def random_world(seed: int) -> tuple[list[Enterprise], dict, list[Officer], dict]:
    """A random small directory with every kind of exclusion, and officers' prior load."""
    rng = random.Random(seed)
    ents, history = [], {}
    for i in range(rng.randint(1, 30)):
        c = code(i + 1, rng.choice(COUNTIES))
        ents.append(
            Enterprise(
                credit_code=c,
                name=f"企业{i}",
                county=c[2:8],
                sector=rng.choice(["工贸", "非煤矿山"]),
                risk_colour=rng.choice(["red", "orange", "yellow", "blue"]),
                credit_class=rng.choice("ABCD"),
                operating_state=rng.choice(["operating"] * 5 + ["shutdown"]),
                deregistered=rng.random() < 0.1,
            )
        )
        n = rng.choice([0, 0, 1, 2, 3])
        last = START - timedelta(days=rng.randint(0, 200)) if n else None
        history[c] = InspectionHistory(c, n, last)
    offs = []
    for k in range(rng.randint(0, 14)):
        oid = OfficerId(f"O{k:03d}")
        aux = rng.random() < 0.2
        offs.append(
            Officer(
                officer_id=oid,
                name=f"人员{k}",
                department=rng.choice([*DEPTS, "交通运输局"]),
                county=rng.choice(COUNTIES),
                certificate_no="" if aux or rng.random() < 0.05 else f"C{k}",
                certificate_valid_from=rng.choice([None, date(2024, 1, 1), date(2025, 3, 10)]),
                certificate_valid_to=rng.choice(
                    [None, date(2025, 3, 15), date(2027, 1, 1), date(2027, 1, 1)]
                ),
                active=rng.random() < 0.9,
                auxiliary=aux,
                conflicts=tuple(Conflict(oid, e.credit_code) for e in ents if rng.random() < 0.1),
            )
        )
    prior = {o.officer_id: rng.choice([0, 0, 1, 3]) for o in offs}
    return ents, history, offs, prior
