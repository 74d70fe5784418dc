"""The verifiable draw: freeze the population, derive the seed, select per stratum, staff teams."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from domain.draw.assign import PoolProblem, PoolResult, assign_pool, shortfalls
from domain.draw.canonical import (
    KeyedHash,
    canonical_json,
    compose_object,
    paused_gc,
    sha256_hex,
)
from domain.draw.eligibility import (
    EXPERT_POOL,
    Eligibility,
    enterprise_eligibility,
    officer_eligibility,
)
from domain.draw.snapshot import ENTERPRISE_FIELDS, OFFICER_FIELDS, Row, rules_to_json
from domain.errors import ValidationFailed
from domain.plan import DrawMode, DrawRules, parse_ratio

ALGORITHM = "safewatch-draw/1"
SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class Frozen:
    """A frozen population: snapshots, eligibility and hashes, published with the commitment."""

    plan_id: str
    period: str
    rules: DrawRules
    enterprise_rows: list[Row]
    officer_rows: list[Row]
    eligibility: Eligibility
    encoded: dict[str, bytes]
    hashes: dict[str, str]
    commitment: str

    def document_bytes(self) -> bytes:
        """Canonical bytes of the frozen record (what is published before the draw)."""
        return compose_object(self._pieces())

    def _pieces(self) -> list[tuple[str, bytes]]:
        return [
            ("algorithm", canonical_json(ALGORITHM)),
            ("plan_id", canonical_json(self.plan_id)),
            ("period", canonical_json(self.period)),
            ("commitment", canonical_json(self.commitment)),
            ("hashes", canonical_json(self.hashes)),
            *self.encoded.items(),
        ]


@dataclass(frozen=True, slots=True)
class Team:
    """A staffed enterprise: its leader, officers (leader first) and experts."""

    enterprise: str
    stratum: str
    officers: tuple[str, ...]
    experts: tuple[str, ...]

    @property
    def leader(self) -> str:
        """The team leader: always an officer, never an expert."""
        return self.officers[0]


@dataclass(frozen=True, slots=True)
class Drawn:
    """A completed draw: the frozen record plus secret, public value, seed and result."""

    frozen: Frozen
    secret: str
    public_value: str
    seed: str
    selected: list[tuple[str, str, str]]
    strata: list[tuple[str, int, int]]
    teams: list[Team]
    unstaffed: list[dict[str, Any]]
    result: dict[str, Any]

    @property
    def complete(self) -> bool:
        """Whether every selected enterprise got a full team."""
        return not self.unstaffed

    def document_bytes(self) -> bytes:
        """Canonical bytes of the whole draw record (what `verify-draw` re-derives)."""
        return compose_object(
            [
                *self.frozen._pieces(),
                ("secret", canonical_json(self.secret)),
                ("public_value", canonical_json(self.public_value)),
                ("seed", canonical_json(self.seed)),
                ("result", canonical_json(self.result)),
            ]
        )


def commitment_of(secret: bytes) -> str:
    """The published commitment to a secret: hex SHA-256 of its 32 bytes."""
    return sha256_hex(secret)


def derive_seed(secret: bytes, public_value: str, plan_id: str, period: str) -> bytes:
    """seed = SHA-256(secret ‖ public value ‖ 0x00 ‖ plan id ‖ 0x00 ‖ period), texts in UTF-8."""
    for name, text in (("public value", public_value), ("plan id", plan_id), ("period", period)):
        if "\x00" in text:
            raise ValidationFailed(f"the {name} may not contain U+0000")
    data = b"\x00".join(t.encode("utf-8") for t in (public_value, plan_id, period))
    return hashlib.sha256(secret + data).digest()


def parse_secret(text: str) -> bytes:
    """A secret as 64 lower-case hex digits → its 32 bytes."""
    if len(text) != 2 * SECRET_BYTES or any(c not in "0123456789abcdef" for c in text):
        raise ValidationFailed("the secret must be 64 lower-case hexadecimal digits (256 bits)")
    return bytes.fromhex(text)


def freeze(
    *,
    plan_id: str,
    period: str,
    rules: DrawRules,
    enterprise_rows: list[Row],
    officer_rows: list[Row],
    commitment: str,
) -> Frozen:
    """Freeze a population: canonical snapshots, eligibility, their SHA-256, and the commitment."""
    if "\x00" in plan_id or "\x00" in period:
        raise ValidationFailed("plan id and period may not contain U+0000")
    with paused_gc():
        return _freeze(plan_id, period, rules, enterprise_rows, officer_rows, commitment)


def _freeze(
    plan_id: str,
    period: str,
    rules: DrawRules,
    enterprise_rows: list[Row],
    officer_rows: list[Row],
    commitment: str,
) -> Frozen:
    strata, excluded_e = enterprise_eligibility(rules, enterprise_rows)
    pools, excluded_o = officer_eligibility(rules, officer_rows)
    eligibility = Eligibility(strata, excluded_e, pools, excluded_o)
    encoded = {
        "rules": canonical_json(rules_to_json(rules)),
        "enterprises": canonical_json({"fields": ENTERPRISE_FIELDS, "rows": enterprise_rows}),
        "officers": canonical_json({"fields": OFFICER_FIELDS, "rows": officer_rows}),
        "eligibility": canonical_json(eligibility.to_json(enterprise_rows, officer_rows)),
    }
    hashes = {name: sha256_hex(data) for name, data in encoded.items()}
    return Frozen(
        plan_id,
        period,
        rules,
        enterprise_rows,
        officer_rows,
        eligibility,
        encoded,
        hashes,
        commitment,
    )


def stratum_size(ratio: str, eligible: int, minimum: int, maximum: int | None) -> int:
    """k = min(eligible, max, max(min, ceil(ratio × eligible))), computed exactly."""
    k = max(minimum, math.ceil(Fraction(parse_ratio(ratio)) * eligible))
    if maximum is not None:
        k = min(k, maximum)
    return min(k, eligible)


def _select(
    fz: Frozen, keyed: KeyedHash
) -> tuple[list[tuple[bytes, int, str]], list[tuple[str, int, int]]]:
    rows = fz.enterprise_rows
    chosen: list[tuple[bytes, int, str]] = []
    sizes: list[tuple[str, int, int]] = []
    fixed = fz.rules.mode is DrawMode.FIXED
    for pos, (sid, members) in enumerate(fz.eligibility.strata):
        codes = [rows[i][0] for i in members]
        ranks = keyed.many(b"rank\x00" + sid.encode("utf-8") + b"\x00", codes)
        if fixed:
            k = len(members)
        else:
            s = fz.rules.strata[pos]
            k = stratum_size(s.ratio, len(members), s.minimum, s.maximum)
        order = sorted(range(len(members)), key=ranks.__getitem__)[:k]
        chosen.extend((ranks[j], members[j], sid) for j in order)
        sizes.append((sid, len(members), k))
    chosen.sort(key=lambda t: (t[0], rows[t[1]][0]))
    return chosen, sizes


def draw(fz: Frozen, *, secret: bytes, public_value: str) -> Drawn:
    """Run the draw on a frozen population with the revealed secret and the public value."""
    if len(secret) != SECRET_BYTES:
        raise ValidationFailed("the secret must be 32 bytes")
    if commitment_of(secret) != fz.commitment:
        raise ValidationFailed("the secret does not match the published commitment")
    seed = derive_seed(secret, public_value, fz.plan_id, fz.period)
    with paused_gc():
        return _draw(fz, secret, public_value, seed)


def _draw(fz: Frozen, secret: bytes, public_value: str, seed: bytes) -> Drawn:
    keyed = KeyedHash(seed)
    chosen, sizes = _select(fz, keyed)
    erows, orows = fz.enterprise_rows, fz.officer_rows
    codes = [erows[i][0] for _, i, _ in chosen]
    ecounty = [erows[i][2] for _, i, _ in chosen]
    pos_of = {c: t for t, c in enumerate(codes)}
    pool_members: list[list[str]] = []
    results: list[tuple[PoolProblem, PoolResult]] = []
    for pool in fz.eligibility.pools:
        ids = [orows[i][0] for i in pool.members]
        ranks = keyed.many(b"officer\x00", ids)
        order = sorted(range(len(ids)), key=lambda j: (ranks[j], ids[j]))
        members = [pool.members[j] for j in order]
        conflicts: list[set[int]] = [set() for _ in codes]
        for rank_pos, i in enumerate(members):
            for code in orows[i][10]:
                t = pos_of.get(code)
                if t is not None:
                    conflicts[t].add(rank_pos)
        n = len(members)
        starts = [
            int.from_bytes(h[:8], "big") % n if n else 0
            for h in keyed.many(b"start\x00" + pool.pool_id.encode("utf-8") + b"\x00", codes)
        ]
        problem = PoolProblem(
            demand=pool.demand,
            caps=[pool.capacities[j] for j in order],
            officer_county=[orows[i][6] for i in members],
            enterprise_county=ecounty,
            conflicts=[frozenset(c) for c in conflicts],
            start=starts,
            own_county_rule=fz.rules.own_county_rule,
        )
        results.append((problem, assign_pool(problem)))
        pool_members.append([orows[i][0] for i in members])
    short = sorted({e for _, r in results for e in r.short})
    reasons = [shortfalls(problem, res) for problem, res in results]
    unstaffed = [
        {"enterprise": codes[e], "pool": pool.pool_id, **why[e]}
        for e in short
        for pool, why in zip(fz.eligibility.pools, reasons, strict=True)
        if e in why
    ]
    short_set = set(short)
    teams: list[Team] = []
    for t, (_, _, sid) in enumerate(chosen):
        if t in short_set:
            continue
        officers: list[str] = []
        experts: list[str] = []
        for pool, ids, (_, res) in zip(fz.eligibility.pools, pool_members, results, strict=True):
            target = experts if pool.pool_id == EXPERT_POOL else officers
            target.extend(ids[j] for j in sorted(res.teams[t]))
        teams.append(Team(codes[t], sid, tuple(officers), tuple(experts)))
    selected = [(codes[t], sid, rank.hex()) for t, (rank, _, sid) in enumerate(chosen)]
    result = {
        "selected": [list(s) for s in selected],
        "strata": [list(s) for s in sizes],
        "teams": [
            {
                "enterprise": tm.enterprise,
                "leader": tm.leader,
                "officers": list(tm.officers),
                "experts": list(tm.experts),
            }
            for tm in teams
        ],
        "unstaffed": unstaffed,
        "status": "incomplete" if unstaffed else "complete",
    }
    return Drawn(
        fz, secret.hex(), public_value, seed.hex(), selected, sizes, teams, unstaffed, result
    )
