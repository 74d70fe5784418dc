"""The verifiable draw: freeze the population, derive the seed, select per stratum, staff teams."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from domain.draw import verifier
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
from domain.draw.public_value import PublicSource, check_source, normalise, period_window, stamp
from domain.draw.snapshot import ENTERPRISE_FIELDS, OFFICER_FIELDS, Row, rules_to_json
from domain.errors import ValidationFailed
from domain.i18n import msg
from domain.plan import DrawMode, DrawRules, parse_ratio

ALGORITHM = verifier.V2
SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class Record:
    """What a v2 frozen record names besides the population: attempt, source, time, witnesses."""

    public_source: PublicSource
    frozen_at: datetime
    attempt: int = 1
    #: For attempt > 1: {"previous_commitment": hex, "reason": one of verifier.REPEAT_REASONS}.
    repeat: dict[str, str] | None = None
    #: [label, hex SHA-256 of the witness's 32 secret bytes], in the order they are mixed in.
    witnesses: list[list[str]] = field(default_factory=list)

    def pieces(self) -> list[tuple[str, bytes]]:
        """The record's members as canonical bytes."""
        return [
            ("attempt", canonical_json(self.attempt)),
            ("repeat", canonical_json(self.repeat)),
            ("frozen_at", canonical_json(stamp(self.frozen_at))),
            ("public_source", canonical_json(self.public_source.to_json())),
            ("witnesses", canonical_json(self.witnesses)),
        ]


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
    record: Record

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
            *self.record.pieces(),
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
    witness_secrets: list[str]
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
                ("witness_secrets", canonical_json(self.witness_secrets)),
                ("public_value", canonical_json(self.public_value)),
                ("seed", canonical_json(self.seed)),
                ("result", canonical_json(self.result)),
            ]
        )


def commitment_of(secret: bytes) -> str:
    """The published commitment to a secret: hex SHA-256 of its 32 bytes."""
    return sha256_hex(secret)


def derive_seed(
    secret: bytes, witness_secrets: list[bytes], frozen_record: bytes, public_value: str
) -> bytes:
    """seed = SHA-256("safewatch-draw/2" ‖ 0x00 ‖ secret ‖ witness secrets ‖ SHA-256(frozen
    record) ‖ UTF-8(public value)): raw bytes throughout, the record as its canonical JSON."""
    record = hashlib.sha256(frozen_record).digest()
    parts = [ALGORITHM.encode(), b"\x00", secret, *witness_secrets, record, public_value.encode()]
    return hashlib.sha256(b"".join(parts)).digest()


def parse_secret(text: str) -> bytes:
    """A secret as 64 lower-case hex digits → its 32 bytes."""
    if len(text) != 2 * SECRET_BYTES or any(c not in "0123456789abcdef" for c in text):
        raise ValidationFailed(msg("draw.secret_format"))
    return bytes.fromhex(text)


def freeze(
    *,
    plan_id: str,
    period: str,
    rules: DrawRules,
    enterprise_rows: list[Row],
    officer_rows: list[Row],
    commitment: str,
    record: Record,
) -> Frozen:
    """Freeze a population: canonical snapshots, eligibility, their SHA-256, and the commitment.

    Everything the verifier would refuse is refused here, with the verifier's own rules."""
    if (period_window(period)) != (rules.period_start, rules.period_end):
        raise ValidationFailed(
            msg(
                "draw.period_mismatch",
                period=period,
                period_start=rules.period_start,
                period_end=rules.period_end,
            )
        )
    check_source(record.public_source, record.frozen_at)
    with paused_gc():
        fz = _freeze(plan_id, period, rules, enterprise_rows, officer_rows, commitment, record)
        doc = {
            "algorithm": ALGORITHM,
            "plan_id": plan_id,
            "period": period,
            "commitment": commitment,
            "hashes": fz.hashes,
            "rules": rules_to_json(rules),
            "enterprises": {"fields": list(ENTERPRISE_FIELDS), "rows": enterprise_rows},
            "officers": {"fields": list(OFFICER_FIELDS), "rows": officer_rows},
            "eligibility": {},
            **{key: verifier.parse(value) for key, value in record.pieces()},
        }
        try:
            verifier.check(doc, frozen_only=True)
        except ValueError as exc:
            raise ValidationFailed(msg("draw.frozen_invalid", exc=str(exc))) from exc
        return fz


def _freeze(
    plan_id: str,
    period: str,
    rules: DrawRules,
    enterprise_rows: list[Row],
    officer_rows: list[Row],
    commitment: str,
    record: Record,
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
        record,
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
    return chosen, sizes


def draw(
    fz: Frozen, *, secret: bytes, public_value: str, witness_secrets: list[bytes] | None = None
) -> Drawn:
    """Run the draw: the revealed secret, the witnesses' secrets, the public value (normalised
    to its canonical form, so every spelling of one value gives one draw)."""
    witnesses = witness_secrets or []
    if len(secret) != SECRET_BYTES:
        raise ValidationFailed(msg("draw.secret_length"))
    if commitment_of(secret) != fz.commitment:
        raise ValidationFailed(msg("draw.secret_mismatch"))
    if len(witnesses) != len(fz.record.witnesses):
        raise ValidationFailed(msg("draw.witness_count", count=len(fz.record.witnesses)))
    for given, (label, committed) in zip(witnesses, fz.record.witnesses, strict=True):
        if len(given) != SECRET_BYTES or commitment_of(given) != committed:
            raise ValidationFailed(msg("draw.witness_mismatch", label=label))
    value = normalise(public_value, fz.record.public_source.format)
    seed = derive_seed(secret, witnesses, fz.document_bytes(), value)
    with paused_gc():
        return _draw(fz, secret, witnesses, value, seed)


def _team_order(
    fz: Frozen, keyed: KeyedHash, chosen: list[tuple[bytes, int, str]]
) -> list[tuple[bytes, int, str]]:
    """Priority first (the plan's, 1 = first), then MAC("team", code): never the selection rank,
    so a stratum's share of the order does not depend on its ratio."""
    codes = [fz.enterprise_rows[i][0] for _, i, _ in chosen]
    prio = {s.stratum_id: s.staffing_priority for s in fz.rules.strata}
    keys = keyed.many(b"team\x00", codes)
    order = sorted(range(len(chosen)), key=lambda t: (prio.get(chosen[t][2], 1), keys[t], codes[t]))
    return [chosen[t] for t in order]


def _draw(
    fz: Frozen, secret: bytes, witnesses: list[bytes], public_value: str, seed: bytes
) -> Drawn:
    keyed = KeyedHash(seed)
    chosen, sizes = _select(fz, keyed)
    chosen = _team_order(fz, keyed, chosen)
    erows, orows = fz.enterprise_rows, fz.officer_rows
    codes = [erows[i][0] for _, i, _ in chosen]
    ecounty = [erows[i][2] for _, i, _ in chosen]
    pos_of = {c: t for t, c in enumerate(codes)}
    pool_members: list[list[str]] = []
    pools: list[verifier.Pool] = []
    for pool in fz.eligibility.pools:
        ids = [orows[i][0] for i in pool.members]
        ranks = keyed.many(b"officer\x00", ids)
        order = sorted(range(len(ids)), key=lambda j: (ranks[j], ids[j]))
        members = [pool.members[j] for j in order]
        conflicts: list[set[int]] = [set() for _ in codes]
        for rank_pos, i in enumerate(members):
            for code in orows[i][9]:
                t = pos_of.get(code)
                if t is not None:
                    conflicts[t].add(rank_pos)
        n = len(members)
        starts = [
            int.from_bytes(h[:8], "big") % n if n else 0
            for h in keyed.many(b"start\x00" + pool.pool_id.encode("utf-8") + b"\x00", codes)
        ]
        caps = [pool.capacities[j] for j in order]
        ocounty = [orows[i][5] for i in members]
        own = fz.rules.own_county_rule
        pools.append(verifier.Pool(pool.demand, caps, ocounty, ecounty, conflicts, starts, own))
        pool_members.append([orows[i][0] for i in members])
    short = verifier.assign_v2(pools, len(codes))
    prio = {s.stratum_id: s.staffing_priority for s in fz.rules.strata}
    unstaffed = [
        {
            "enterprise": codes[e],
            "pool": pool.pool_id,
            "stratum": chosen[e][2],
            "priority": prio.get(chosen[e][2], 1),
            **verifier.shortfall(pools[p], e, short[e][p]),
        }
        for e in sorted(short)
        for p, pool in enumerate(fz.eligibility.pools)
        if p in short[e]
    ]
    teams: list[Team] = []
    for t, (_, _, sid) in enumerate(chosen):
        if t in short:
            continue
        officers: list[str] = []
        experts: list[str] = []
        for pool, ids, solved in zip(fz.eligibility.pools, pool_members, pools, strict=True):
            target = experts if pool.pool_id == EXPERT_POOL else officers
            target.extend(ids[j] for j in sorted(solved.teams[t]))
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
        fz,
        secret.hex(),
        [w.hex() for w in witnesses],
        public_value,
        seed.hex(),
        selected,
        sizes,
        teams,
        unstaffed,
        result,
    )
