#!/usr/bin/env python3
"""Safewatch draw verifier, standard library only: `python3 verifier.py draw.json [--frozen F]`
re-derives every byte of a draw (docs/draw-algorithm.md, versions 1 and 2) and exits 0, or 1
naming the first problem. The same module is `safewatch verify-draw`: one set of rules."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import sys
import unicodedata
from bisect import bisect_left, insort
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Any

V1, V2 = "safewatch-draw/1", "safewatch-draw/2"
MAX_INT = 2**53
HEX64, LABEL = re.compile("[0-9a-f]{64}"), re.compile("[a-z0-9_-]{1,32}")
PLAN_ID, STAMP = (
    re.compile(r"[A-Za-z0-9_.:-]{1,64}"),
    re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"),
)
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
COLOURS, CLASSES = ("red", "orange", "yellow", "blue"), ("A", "B", "C", "D")
#: v2: a plan's exclusion reasons and a repeat's reasons are codes, never free text.
EXCLUSION_REASONS = ("under_investigation", "recently_inspected", "special_campaign",
                     "closing_down", "court_order", "other")  # fmt: skip
REPEAT_REASONS = ("population_error", "staffing_failure", "public_value_unavailable",
                  "review_order", "other")  # fmt: skip
SOURCES = {"lottery": "numbers", "beacon": "hex64", "none": "none"}  # kind → canonical format
SEPARATORS = set(" ,;+|/-:.、\t")
EF = "code name county sector risk_colour credit_class operating_state deregistered".split()
EF += ["inspections_this_year", "last_inspected_on"]
OF1 = "id name certificate_no certificate_valid_from certificate_valid_to department".split()
OF1 += ["county", "active", "auxiliary", "prior_load", "conflicts"]
OF2 = ["id", "certified", *OF1[3:]]
S, B, N, D, L = "str", "bool", "int", "date", "codes"  # column kinds
ET = [S, S, S, S, S, S, S, B, N, D]
OT = {V1: [S, S, S, D, D, S, S, B, B, N, L], V2: [S, B, D, D, S, S, B, B, N, L]}
TOP = {V1: "algorithm plan_id period commitment hashes rules enterprises officers eligibility"}
TOP[V2] = TOP[V1] + " attempt repeat frozen_at public_source witnesses"
DRAWN = {
    V1: "secret public_value seed result",
    V2: "secret witness_secrets public_value seed result",
}
ORDER = "algorithm plan_id period attempt repeat frozen_at public_source witnesses hashes".split()
ORDER += "commitment secret witness_secrets public_value seed eligibility result".split()
ORDER += ["rules", "enterprises", "officers"]
RULE_KEYS = {"period_start", "period_end", "counties", "sectors", "mode", "fixed_list", "strata",
             "yearly_cap", "cooldown_days", "team", "workload_cap", "own_county_rule",
             "shutdown_policy", "shutdown_states", "excluded"}  # fmt: skip
STRATUM_KEYS = {V1: {"id", "sector", "risk_colour", "credit_class", "ratio", "min", "max"}}
STRATUM_KEYS[V2] = STRATUM_KEYS[V1] | {"priority"}
HASHED = ("rules", "enterprises", "officers", "eligibility")


def need(condition: Any, message: str) -> None:
    if not condition:
        raise ValueError(message)


def canon(v: Any) -> bytes:
    return json.dumps(v, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def mac(seed: bytes, *parts: str) -> bytes:
    return hmac.digest(seed, b"\0".join(p.encode() for p in parts), "sha256")


def text(v: Any, where: str, pattern: re.Pattern[str] | None = None) -> str:
    need(type(v) is str and not CONTROL.search(v), f"{where}: a string without control characters")
    need(pattern is None or pattern.fullmatch(v), f"{where}: {v!r} is not of the required form")
    return str(v)


def integer(v: Any, where: str, low: int = 0) -> int:
    need(type(v) is int and low <= v <= MAX_INT, f"{where}: an integer in [{low}, 2^53]")
    return int(v)


def day(v: Any, where: str) -> date:
    try:
        need(type(v) is str and len(v) == 10, "")
        return date.fromisoformat(v)
    except ValueError:
        raise ValueError(f"{where}: {v!r} is not a real YYYY-MM-DD date") from None


def stamp(v: Any, where: str) -> datetime:
    try:
        return datetime.strptime(text(v, where, STAMP) + "+0000", "%Y-%m-%dT%H:%M:%SZ%z")
    except ValueError:
        raise ValueError(f"{where}: {v!r} is not a real UTC time YYYY-MM-DDTHH:MM:SSZ") from None


def strings(v: Any, where: str, unique: bool = False, bar: bool = True) -> list[str]:
    need(type(v) is list, f"{where}: a list")
    out = [text(x, f"{where}[]") for x in v]
    need(not unique or len(set(out)) == len(out), f"{where}: an entry appears twice")
    need(bar or all("|" not in x for x in out), f"{where}: '|' is not allowed here")
    return out


def period_window(period: str) -> tuple[str, str]:
    """v2 periods: a calendar month `YYYY-MM` or an explicit range `YYYY-MM-DD/YYYY-MM-DD`."""
    if re.fullmatch(r"\d{4}-\d\d", period):
        first = day(period + "-01", "period")
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return first.isoformat(), last.isoformat()
    start, _, end = period.partition("/")
    need(day(start, "period") <= day(end, "period"), "period: ends before it starts")
    return start, end


def normalise(value: str, fmt: str) -> str:
    """The canonical form of a public value: one spelling per value, whatever was typed."""
    value = unicodedata.normalize("NFKC", value)
    if fmt == "none":
        need(value == "", "public_value: a draw without a public source has an empty value")
        return ""
    if fmt == "hex64":
        out = "".join(value.split()).lower()
        need(HEX64.fullmatch(out), "public_value: 64 hexadecimal digits expected")
        return out
    need(fmt == "numbers", f"unknown public value format {fmt!r}")
    need(all((c.isascii() and c.isdigit()) or c in SEPARATORS for c in value),
         "public_value: only digits and separators ( ,;+|/-:.、) are allowed")  # fmt: skip
    numbers = re.findall("[0-9]+", value)
    need(numbers, "public_value: no number found")
    return " ".join(str(int(n)) for n in numbers)


def check_rules(r: Any, v: str) -> None:
    need(type(r) is dict and set(r) == RULE_KEYS, f"rules: exactly the keys {sorted(RULE_KEYS)}")
    need(day(r["period_start"], "rules.period_start") <= day(r["period_end"], "rules.period_end"),
         "rules: the period ends before it starts")  # fmt: skip
    uniq = v == V2
    strings(r["counties"], "rules.counties", uniq, bar=False)
    strings(r["sectors"], "rules.sectors", uniq, bar=False)
    strings(r["fixed_list"], "rules.fixed_list", uniq)
    strings(r["shutdown_states"], "rules.shutdown_states", uniq)
    need(r["mode"] in ("random", "fixed"), "rules.mode: random or fixed")
    need(r["shutdown_policy"] in ("exclude", "include"), "rules.shutdown_policy: exclude/include")
    need(type(r["own_county_rule"]) is bool, "rules.own_county_rule: true or false")
    integer(r["yearly_cap"], "rules.yearly_cap", 1)
    integer(r["cooldown_days"], "rules.cooldown_days")
    integer(r["workload_cap"], "rules.workload_cap", 1)
    t = r["team"]
    need(type(t) is dict and set(t) == {"size", "departments", "quotas", "experts"}, "rules.team")
    size = integer(t["size"], "rules.team.size", 2)
    depts = strings(t["departments"], "rules.team.departments", True, bar=False)
    need(type(t["quotas"]) is list and len(t["quotas"]) == len(depts) >= 1, "rules.team.quotas")
    quotas = [integer(q, "rules.team.quotas[]", 1) for q in t["quotas"]]
    need(sum(quotas) == size, "rules.team: quotas must sum to the size")
    integer(t["experts"], "rules.team.experts")
    need(type(r["strata"]) is list, "rules.strata: a list")
    need(r["mode"] == "fixed" or r["strata"], "rules: a random plan needs a stratum")
    need(r["mode"] == "random" or r["fixed_list"], "rules: a fixed plan needs its list")
    seen = set()
    for i, s in enumerate(r["strata"]):
        w = f"rules.strata[{i}]"
        need(type(s) is dict and set(s) == STRATUM_KEYS[v], f"{w}: keys {sorted(STRATUM_KEYS[v])}")
        key = (text(s["sector"], w), s["risk_colour"], s["credit_class"])
        need(s["risk_colour"] in ("*", *COLOURS) and s["credit_class"] in ("*", *CLASSES), w)
        need(key not in seen, f"{w}: listed twice")
        seen.add(key)
        ratio = Decimal(text(s["ratio"], f"{w}.ratio", re.compile(r"[0-9]+(\.[0-9]+)?")))
        need(0 <= ratio <= 1, f"{w}.ratio: outside [0, 1]")
        low = integer(s["min"], f"{w}.min")
        need(s["max"] is None or integer(s["max"], f"{w}.max") >= low, f"{w}: min > max")
        need(v == V1 or integer(s["priority"], f"{w}.priority", 1), "")
    need(type(r["excluded"]) is list, "rules.excluded: a list")
    for pair in r["excluded"]:
        need(type(pair) is list and len(pair) == 2, "rules.excluded: [code, reason] pairs")
        text(pair[0], "rules.excluded code")
        need(v == V1 or pair[1] in EXCLUSION_REASONS, f"rules.excluded: reason {pair[1]!r} is "
             f"not one of the codes {', '.join(EXCLUSION_REASONS)}")  # fmt: skip
        text(pair[1], "rules.excluded reason")
    codes = [p[0] for p in r["excluded"]]
    need(len(set(codes)) == len(codes), "rules.excluded: a code is listed twice")


def check_cell(value: Any, kind: str, w: str) -> None:
    if kind == S:
        text(value, w)
    elif kind == B:
        need(type(value) is bool, f"{w}: true or false")
    elif kind == N:
        integer(value, w)
    elif kind == D:
        need(value is None or day(value, w), "")
    else:
        need(strings(value, w) == sorted(set(value)), f"{w}: sorted, distinct codes")


def column_ok(col: tuple[Any, ...], kind: str) -> bool:  # a fast pass; cells are checked on doubt
    if kind == S:
        return all(type(v) is str for v in col) and not CONTROL.search("".join(col))
    if kind == B:
        return all(type(v) is bool for v in col)
    if kind == N:
        return all(type(v) is int and 0 <= v <= MAX_INT for v in col)
    if kind == D:
        days = {v for v in col if v is not None}
        return all(type(v) is str and len(v) == 10 for v in days) and all(
            date.fromisoformat(v).isoformat() == v for v in days)  # fmt: skip
    return all(type(v) is list and all(type(c) is str for c in v) and v == sorted(set(v))
               and not CONTROL.search("".join(v)) for v in col)  # fmt: skip


def check_rows(snap: Any, fields: list[str], kinds: list[str], what: str) -> list[list[Any]]:
    need(type(snap) is dict and set(snap) == {"fields", "rows"}, f"{what}: fields and rows")
    need(snap["fields"] == fields, f"{what}.fields: expected {fields}")
    need(type(snap["rows"]) is list, f"{what}.rows: a list")
    rows = snap["rows"]
    width = len(fields)
    bad = next((n for n, row in enumerate(rows) if type(row) is not list or len(row) != width), -1)
    need(bad < 0, f"{what}.rows[{bad}]: {width} values")
    for k, col in enumerate(zip(*rows, strict=True)):
        try:
            ok = column_ok(col, kinds[k])
        except ValueError:
            ok = False
        for n in [] if ok else range(len(rows)):
            check_cell(rows[n][k], kinds[k], f"{what}.rows[{n}].{fields[k]}")
    keys = [row[0] for row in rows]
    need(all(a < b for a, b in pairwise(keys)), f"{what}.rows: not in code-point order, or twice")
    return list(rows)


def check(d: Any, frozen_only: bool = False) -> str:
    """Every validity rule of §10 that is not a re-derivation; returns the version."""
    need(type(d) is dict and d.get("algorithm") in (V1, V2), f"algorithm: {V1} or {V2}")
    v = d["algorithm"]
    keys = set(TOP[v].split()) | (set() if frozen_only else set(DRAWN[v].split()))
    if not frozen_only and "secret" not in d:
        keys -= set(DRAWN[v].split())
    need(set(d) == keys, f"document keys: missing {sorted(keys - set(d))}, "
         f"unexpected {sorted(set(d) - keys)}")  # fmt: skip
    text(d["plan_id"], "plan_id", PLAN_ID if v == V2 else None)
    text(d["period"], "period")
    text(d["commitment"], "commitment", HEX64)
    check_rules(d["rules"], v)
    check_rows(d["enterprises"], EF, ET, "enterprises")
    check_rows(d["officers"], OF1 if v == V1 else OF2, OT[v], "officers")
    if "secret" in d:
        text(d["secret"], "secret", HEX64)
        text(d["public_value"], "public_value")
    if v == V1:
        return str(v)
    need(period_window(d["period"]) == (d["rules"]["period_start"], d["rules"]["period_end"]),
         "period: the rules' period_start and period_end must be its window")  # fmt: skip
    attempt = integer(d["attempt"], "attempt", 1)
    rep = d["repeat"]
    need((rep is None) == (attempt == 1), "repeat: present exactly when attempt > 1")
    if rep is not None:
        need(type(rep) is dict and set(rep) == {"previous_commitment", "reason"}, "repeat: keys")
        text(rep["previous_commitment"], "repeat.previous_commitment", HEX64)
        need(rep["reason"] in REPEAT_REASONS, f"repeat.reason: one of {', '.join(REPEAT_REASONS)}")
    frozen_at, src = stamp(d["frozen_at"], "frozen_at"), d["public_source"]
    need(type(src) is dict and set(src) == {"kind", "name", "round", "format", "read_after"},
         "public_source: exactly kind, name, round, format, read_after")  # fmt: skip
    need(SOURCES.get(src["kind"], "?") == src["format"], "public_source: unknown kind or format")
    name, rnd = text(src["name"], "public_source.name"), text(src["round"], "public_source.round")
    after = stamp(src["read_after"], "public_source.read_after")
    if src["kind"] == "none":
        need(name == rnd == "" and after == frozen_at, "public_source: none has no name or round")
    else:
        need(name and after > frozen_at, "public_source: named, and read after the freeze")
    need(type(d["witnesses"]) is list, "witnesses: a list")
    for w in d["witnesses"]:
        need(type(w) is list and len(w) == 2, "witnesses: [label, commitment] pairs")
        text(w[0], "witness label", LABEL)
        text(w[1], "witness commitment", HEX64)
    need(len({w[0] for w in d["witnesses"]}) == len(d["witnesses"]), "witnesses: label twice")
    if "secret" in d:
        ws = d["witness_secrets"]
        need(type(ws) is list and len(ws) == len(d["witnesses"]), "witness_secrets: one each")
        for i, (s, w) in enumerate(zip(ws, d["witnesses"], strict=True)):
            text(s, f"witness_secrets[{i}]", HEX64)
            need(sha(bytes.fromhex(s)) == w[1], f"witness_secrets[{i}]: does not match {w[0]}")
        need(normalise(d["public_value"], src["format"]) == d["public_value"],
             f"public_value: not the canonical form {src['format']} "
             f"({normalise(d['public_value'], src['format'])!r})")  # fmt: skip
    return str(v)


def norm_rules(r: dict[str, Any]) -> dict[str, Any]:
    out = dict(r, strata=[])
    for key in ("counties", "sectors", "fixed_list", "shutdown_states", "excluded"):
        out[key] = sorted(r[key])
    for s in r["strata"]:
        txt = format(Decimal(s["ratio"]).normalize(), "f")
        sid = f"{s['sector']}|{s['risk_colour']}|{s['credit_class']}"
        out["strata"].append({**s, "id": sid, "ratio": "0" if txt == "-0" else txt})
    return out


def ent_eligibility(r: dict[str, Any], rows: list[list[Any]]) -> tuple[list[Any], list[Any]]:
    start = date.fromisoformat(r["period_start"])
    cutoff = (start - timedelta(days=r["cooldown_days"])).isoformat()
    listed, fixed = dict(r["excluded"]), r["mode"] == "fixed"
    shut = set(r["shutdown_states"]) if r["shutdown_policy"] == "exclude" else set()
    sids = ["fixed"] if fixed else [s["id"] for s in r["strata"]]
    members: list[list[int]] = [[] for _ in sids]
    excluded, first_match = [], {}  # (sector, colour, class) → matching strata, field by field
    counties, sectors, fixed_list = set(r["counties"]), set(r["sectors"]), set(r["fixed_list"])
    for i, (code, _, county, sector, colour, klass, state, dereg, n, last) in enumerate(rows):
        key = (sector, colour, klass)
        if key not in first_match:
            first_match[key] = [0] if fixed else [j for j, s in enumerate(r["strata"]) if all(
                f in ("*", w) for f, w in zip((s["sector"], s["risk_colour"], s["credit_class"]),
                                              key, strict=True))]  # fmt: skip
        hits = first_match[key]
        why, detail = next((x[1:] for x in [
            (dereg, "deregistered", ""),
            (counties and county not in counties, "out_of_scope_county", county),
            (sectors and sector not in sectors, "out_of_scope_sector", sector),
            (code in listed, "excluded_by_plan", listed.get(code, "")),
            (fixed and code not in fixed_list, "not_listed", ""),
            (state in shut, "shutdown", state),
            (n >= r["yearly_cap"], "yearly_cap_reached", str(n)),
            (r["cooldown_days"] > 0 and last is not None and last > cutoff, "cooldown", last),
            (not hits, "no_stratum", f"{sector}|{colour}|{klass}")] if x[0]), ("", ""))  # fmt: skip
        if why:
            excluded.append([code, why, detail])
        else:
            members[hits[0]].append(i)
    return list(zip(sids, members, strict=True)), excluded


def off_eligibility(r: dict[str, Any], rows: list[list[Any]]) -> tuple[list[Any], list[Any]]:
    t, start, end, cap = r["team"], r["period_start"], r["period_end"], r["workload_cap"]
    pools = [[f"dept:{d}", q, [], []] for d, q in zip(t["departments"], t["quotas"], strict=True)]
    pools += [["expert", t["experts"], [], []]] if t["experts"] > 0 else []
    excluded = []
    for i, (oid, cert, vfrom, vto, dept, _, active, aux, prior, _) in enumerate(rows):
        off = not aux
        why, detail = next((x[1:] for x in [
            (not active, "inactive", ""),
            (aux and t["experts"] == 0, "expert_not_required", ""),
            (off and dept not in t["departments"], "department_not_in_plan", dept),
            (off and not cert, "certificate_missing", ""),
            (off and vto is None, "certificate_validity_unknown", ""),
            (off and vto is not None and vto < end, "certificate_expires", vto),
            (off and vfrom is not None and vfrom > start, "certificate_not_yet_valid", vfrom),
            (cap - prior <= 0, "workload_cap_reached", str(prior))] if x[0]), ("", ""))  # fmt: skip
        if why:
            excluded.append([oid, why, detail])
            continue
        pool = pools[-1] if aux else pools[t["departments"].index(dept)]
        pool[2].append(i)
        pool[3].append(cap - prior)
    return pools, excluded


class Pool:
    """One pool's flow: officers in rank order, enterprises in team order (docs §8)."""

    def __init__(self, q: int, caps: list[int], oc: list[str], ec: list[str],
                 conf: list[set[int]], start: list[int], own: bool) -> None:  # fmt: skip
        self.q, self.caps, self.oc, self.ec, self.conf, self.start, self.own = (
            q, caps, oc, ec, conf, start, own)  # fmt: skip
        self.teams: list[list[int]] = [[] for _ in ec]
        self.load, self.holders = [0] * len(caps), [list[int]() for _ in caps]
        self.spare = [j for j, c in enumerate(caps) if c > 0]  # ascending, load < cap
        self.dead_e, self.dead_o = set[int](), set[int]()

    def ok(self, i: int, j: int) -> bool:
        return j not in self.conf[i] and j not in self.teams[i] and not (
            self.own and self.oc[j] == self.ec[i])  # fmt: skip

    def take(self, i: int, j: int) -> None:
        self.teams[i].append(j)
        insort(self.holders[j], i)
        self.load[j] += 1
        if self.load[j] == self.caps[j]:
            self.spare.remove(j)

    def release(self, i: int) -> None:
        for j in self.teams[i]:
            self.holders[j].remove(i)
            self.load[j] -= 1
            if self.load[j] == self.caps[j] - 1:
                insort(self.spare, j)
        self.teams[i] = []
        self.dead_e, self.dead_o = set(), set()  # freed capacity: failed searches may now succeed

    def first_fit(self, i: int) -> bool:  # = the first step of augment(i), only faster
        k = bisect_left(self.spare, self.start[i])
        got = next((j for j in self.spare[k:] + self.spare[:k] if self.ok(i, j)), -1)
        if got >= 0:
            self.take(i, got)
        return got >= 0

    def augment(self, e: int) -> bool:  # breadth-first search for an augmenting path
        if e in self.dead_e:
            return False
        n = len(self.caps)
        parent: dict[int, Any] = {e: None}
        queue, seen = [e], set()
        for x in queue:
            for j in [*range(self.start[x], n), *range(self.start[x])]:
                if j in seen or j in self.dead_o or not self.ok(x, j):
                    continue
                seen.add(j)
                if self.load[j] < self.caps[j]:
                    self.take(x, j)
                    while parent[x] is not None:
                        px, pj = parent[x]
                        self.teams[x].remove(pj)
                        self.holders[pj].remove(x)
                        self.teams[px].append(pj)
                        insort(self.holders[pj], px)
                        x = px
                    return True
                for y in self.holders[j]:
                    if y not in parent and y not in self.dead_e:
                        parent[y] = (x, j)
                        queue.append(y)
        self.dead_e.update(queue)  # nothing reached here can reach spare capacity any more
        self.dead_o.update(seen)
        return False


def shortfall(pool: Pool, e: int, assigned: int) -> dict[str, Any]:
    """Why enterprise e lacks officers of this pool (docs §8, "Unstaffed enterprises")."""
    n, q, conf = len(pool.caps), pool.q, pool.conf[e]
    own = sum(j not in conf and pool.own and pool.oc[j] == pool.ec[e] for j in range(n))
    ok = n - len(conf) - own
    why = "pool_empty" if n == 0 else "no_allowed_officer" if ok == 0 else (
        "too_few_allowed_officers" if ok < q else "officers_exhausted")  # fmt: skip
    return {"reason": why, "needed": q, "assigned": assigned, "pool_size": n,
            "recused": len(conf), "own_county": own, "allowed": ok}  # fmt: skip


def assign_v1(pools: list[Pool], m: int) -> dict[int, dict[int, int]]:
    """v1: first fit for everyone in team order, then augmenting paths; short ones keep theirs."""
    short: dict[int, dict[int, int]] = {}
    for p, pool in enumerate(pools):
        for i in range(m):
            for _ in range(pool.q):
                if not pool.first_fit(i):
                    break
        for e in range(m):
            while len(pool.teams[e]) < pool.q:
                if not pool.augment(e):
                    short.setdefault(e, {})[p] = len(pool.teams[e])
                    break
    return short


def assign_v2(pools: list[Pool], m: int) -> dict[int, dict[int, int]]:
    """v2: in team (priority) order, staff each enterprise fully in every pool or release it."""
    short: dict[int, dict[int, int]] = {}
    for e in range(m):
        failed = {}
        for p, pool in enumerate(pools):
            while len(pool.teams[e]) < pool.q:
                if not (pool.first_fit(e) or pool.augment(e)):
                    failed[p] = len(pool.teams[e])
                    break
        if failed:
            short[e] = failed
            for pool in pools:
                if pool.teams[e]:
                    pool.release(e)
    return short


def seed_of(d: dict[str, Any], v: str, frozen: dict[str, Any]) -> bytes:
    secret, texts = bytes.fromhex(d["secret"]), [d["public_value"], d["plan_id"], d["period"]]
    if v == V1:
        need(all("\0" not in x for x in texts), "NUL in a seed input")
        return hashlib.sha256(secret + "\0".join(texts).encode()).digest()
    extra = b"".join(bytes.fromhex(w) for w in d["witness_secrets"])
    record = hashlib.sha256(canon(frozen)).digest()
    return hashlib.sha256(
        V2.encode() + b"\0" + secret + extra + record + texts[0].encode()
    ).digest()


def derive(d: dict[str, Any], v: str) -> dict[str, Any]:
    r, rows = norm_rules(d["rules"]), d["enterprises"]["rows"]
    offs = d["officers"]["rows"]
    common = offs if v == V2 else [[o[0], bool(o[2]), *o[3:]] for o in offs]
    strata, ex_e = ent_eligibility(r, rows)
    pools, ex_o = off_eligibility(r, common)
    e_strata = [[s, [rows[i][0] for i in m]] for s, m in strata]
    o_pools = [[p[0], [[offs[i][0], c] for i, c in zip(p[2], p[3], strict=True)]] for p in pools]
    out = {**d, "rules": r, "eligibility": {
        "enterprises": {"excluded": ex_e, "strata": e_strata},
        "officers": {"excluded": ex_o, "pools": o_pools}}}  # fmt: skip
    out["hashes"] = {k: sha(canon(out[k])) for k in HASHED}
    if "secret" not in d:
        return out
    seed = seed_of(d, v, {k: out[k] for k in TOP[v].split()})
    out["commitment"], out["seed"] = sha(bytes.fromhex(d["secret"])), seed.hex()
    chosen, sizes, prio = [], [], {}
    for pos, (sid, members) in enumerate(strata):
        ranked = sorted((mac(seed, "rank", sid, rows[i][0]), rows[i][0], i) for i in members)
        k = len(members)
        if r["mode"] != "fixed":
            s = r["strata"][pos]
            k = max(s["min"], math.ceil(Fraction(Decimal(s["ratio"])) * len(members)))
            k = min(k, len(members), k if s["max"] is None else s["max"])
        prio[sid] = r["strata"][pos].get("priority", 1) if r["mode"] != "fixed" else 1
        chosen += [(h, code, i, sid) for h, code, i in ranked[:k]]
        sizes.append([sid, len(members), k])
    if v == V1:
        chosen.sort()
    else:  # priority first, then an independent keyed value (never the selection rank)
        chosen.sort(key=lambda c: (prio[c[3]], mac(seed, "team", c[1]), c[1]))
    codes, ec = [c[1] for c in chosen], [rows[c[2]][2] for c in chosen]
    built, rosters = [], []
    for pid, q, members, caps in pools:
        roster = sorted((mac(seed, "officer", offs[i][0]), offs[i][0], i, c)
                        for i, c in zip(members, caps, strict=True))  # fmt: skip
        by_code: dict[str, set[int]] = {}
        for p, (_, _, i, _) in enumerate(roster):
            for c in offs[i][-1]:
                by_code.setdefault(c, set()).add(p)
        n, oc = len(roster), [common[x[2]][5] for x in roster]
        start = [int.from_bytes(mac(seed, "start", pid, c)[:8], "big") % n if n else 0
                 for c in codes]  # fmt: skip
        conf = [by_code.get(c, set()) for c in codes]
        built.append(Pool(q, [x[3] for x in roster], oc, ec, conf, start, r["own_county_rule"]))
        rosters.append((pid, roster))
    short = (assign_v1 if v == V1 else assign_v2)(built, len(codes))
    unstaffed = []
    for e in sorted(short):
        for p, ((pid, _), pool) in enumerate(zip(rosters, built, strict=True)):
            if p in short[e]:
                item = {"enterprise": codes[e], "pool": pid, **shortfall(pool, e, short[e][p])}
                if v == V2:
                    item["stratum"], item["priority"] = chosen[e][3], prio[chosen[e][3]]
                unstaffed.append(item)
    team_list = []
    for t in (t for t in range(len(codes)) if t not in short):
        staff: dict[bool, list[str]] = {True: [], False: []}
        for (pid, roster), pool in zip(rosters, built, strict=True):
            staff[pid == "expert"] += [roster[j][1] for j in sorted(pool.teams[t])]
        team_list.append({"enterprise": codes[t], "leader": staff[False][0],
                          "officers": staff[False], "experts": staff[True]})  # fmt: skip
    out["result"] = {"selected": [[c[1], c[3], c[0].hex()] for c in chosen], "strata": sizes,
                     "teams": team_list, "unstaffed": unstaffed,
                     "status": "incomplete" if unstaffed else "complete"}  # fmt: skip
    return out


def diff(a: Any, b: Any, path: str = "") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        keys = [k for k in ORDER if k in a or k in b] if not path else []
        keys += sorted((set(a) | set(b)) - set(keys))
        pairs = [(f"{path}.{k}" if path else k, a.get(k, "(absent)"), b.get(k, "(absent)"))
                 for k in keys]  # fmt: skip
    elif isinstance(a, list) and isinstance(b, list):
        pairs = [(f"{path}[{i}]", x, y) for i, (x, y) in enumerate(zip(a, b, strict=False))]
        pairs.append((f"{path} length", len(a), len(b)))
    else:
        same = type(a) is type(b) and a == b
        return None if same else f"{path}: document has {a!r:.80}, re-derived {b!r:.80}"
    return next((found for p, x, y in pairs if (found := diff(x, y, p))), None)


def parse(data: bytes) -> Any:
    def bounded(s: str) -> int:
        need(len(s.lstrip("-")) <= 16 and abs(int(s)) <= MAX_INT, f"integer {s} beyond 2^53")
        return int(s)

    def refuse(s: str) -> Any:
        raise ValueError(f"number {s} is not an integer")

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        need(len({k for k, _ in pairs}) == len(pairs), "a key appears twice in an object")
        return dict(pairs)

    return json.loads(data.decode("utf-8"), parse_float=refuse, parse_constant=refuse,
                      parse_int=bounded, object_pairs_hook=unique)  # fmt: skip


def verify(data: bytes, frozen: bytes | None = None) -> str | None:
    """None when every byte re-derives (and matches the frozen record, if given); else why not."""
    try:
        doc = parse(data)
        v = check(doc)
        expected = derive(doc, v)
        if frozen is not None:
            fz = parse(frozen)
            need(check(fz, frozen_only=True) == v, "frozen record: another algorithm version")
            need(canon(derive(fz, v)) + b"\n" == frozen, "frozen record: does not re-derive")
            for key in TOP[v].split():
                need(fz[key] == doc[key], f"{key}: differs from the frozen record published")
    except (ValueError, ArithmeticError, TypeError, KeyError, IndexError, AttributeError) as exc:
        return f"invalid document: {exc}"
    if canon(expected) + b"\n" == data:
        return None
    return diff(doc, expected) or "bytes are not canonical JSON followed by one newline"


def main(argv: list[str]) -> int:
    args = argv[1:]
    frozen_path = args[args.index("--frozen") + 1] if "--frozen" in args[:-1] else None
    paths = [a for a in args if a not in ("--frozen", frozen_path)]
    if len(paths) != 1:
        sys.exit("usage: python3 verifier.py draw.json [--frozen frozen.json]")
    with open(paths[0], "rb") as f:
        data = f.read()
    frozen = None
    if frozen_path:
        with open(frozen_path, "rb") as f:
            frozen = f.read()
    problem = verify(data, frozen)
    if problem:
        print(f"FAIL: {problem}")
        return 1
    doc = json.loads(data)
    print(f"OK: {doc['plan_id']} {doc['period']} re-derives ({doc['algorithm']})")
    print(f"commitment {doc['commitment']}")
    print("\n".join(f"sha256 {k} {v}" for k, v in sorted(doc["hashes"].items())))
    if doc.get("public_source", {}).get("kind") == "none":
        print("WARNING: no public value: only the bureau's secret made this draw unpredictable")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
