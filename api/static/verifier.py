#!/usr/bin/env python3
"""Safewatch draw verifier, standard library only: `python3 verifier.py draw.json` re-derives every
byte of a draw (docs/draw-algorithm.md) and exits 0, or 1 naming the first difference. Compare the
commitment and hashes it prints with those the bureau published before the draw."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import sys
from bisect import insort
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any

ALG = "safewatch-draw/1"
EF = "code name county sector risk_colour credit_class operating_state deregistered".split()
EF += ["inspections_this_year", "last_inspected_on"]
OF = "id name certificate_no certificate_valid_from certificate_valid_to department".split()
OF += ["county", "active", "auxiliary", "prior_load", "conflicts"]
ORDER = "algorithm plan_id period hashes commitment secret public_value seed".split()
ORDER += ["eligibility", "result", "rules", "enterprises", "officers"]
ABSENT = "(absent)"
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


def iso(v: Any) -> bool:
    return v is None or date.fromisoformat(v).isoformat() == v


def norm_rules(r: dict[str, Any]) -> dict[str, Any]:
    out = dict(r, strata=[])
    for key in ("counties", "sectors", "fixed_list", "shutdown_states", "excluded"):
        out[key] = sorted(r[key])
    for s in r["strata"]:
        ratio = Decimal(s["ratio"])
        need(ratio.is_finite() and 0 <= ratio <= 1, f"ratio {s['ratio']} outside [0, 1]")
        txt = format(ratio.normalize(), "f")
        sid = f"{s['sector']}|{s['risk_colour']}|{s['credit_class']}"
        out["strata"].append({**s, "id": sid, "ratio": "0" if txt == "-0" else txt})
    t = r["team"]
    need(t["size"] >= 2 and len(t["quotas"]) == len(t["departments"]) >= 1, "team rule")
    need(min(t["quotas"]) >= 1 and sum(t["quotas"]) == t["size"], "team quotas")
    return out


def ent_eligibility(r: dict[str, Any], rows: list[list[Any]]) -> tuple[list[Any], list[Any]]:
    start = date.fromisoformat(r["period_start"])
    cutoff = (start - timedelta(days=r["cooldown_days"])).isoformat()
    listed, fixed = dict(r["excluded"]), r["mode"] == "fixed"
    shut = set(r["shutdown_states"]) if r["shutdown_policy"] == "exclude" else set()
    sids = ["fixed"] if fixed else [s["id"] for s in r["strata"]]
    members: list[list[int]] = [[] for _ in sids]
    excluded = []
    for i, (code, _, county, sector, colour, klass, state, dereg, n, last) in enumerate(rows):
        need(iso(last), f"bad date {last}")
        key = (sector, colour, klass)
        hits = [0] if fixed else [j for j, s in enumerate(r["strata"]) if all(v in ("*", w) for v, w
                                  in zip(s["id"].split("|"), key, strict=True))]  # fmt: skip
        why, detail = next((x[1:] for x in [
            (dereg, "deregistered", ""),
            (r["counties"] and county not in r["counties"], "out_of_scope_county", county),
            (r["sectors"] and sector not in r["sectors"], "out_of_scope_sector", sector),
            (code in listed, "excluded_by_plan", listed.get(code, "")),
            (fixed and code not in r["fixed_list"], "not_listed", ""),
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
    for i, (oid, _, cert, vfrom, vto, dept, _, active, aux, prior, conf) in enumerate(rows):
        need(conf == sorted(set(conf)) and iso(vfrom) and iso(vto), f"officer {oid} malformed")
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


def assign(q: int, caps: list[int], oc: list[str], ec: list[str], conf: list[set[int]],
           start: list[int], own: bool) -> tuple[list[list[int]], list[int]]:  # fmt: skip
    m, n = len(ec), len(caps)
    teams: list[list[int]] = [[] for _ in range(m)]
    load, holders = [0] * n, [list[int]() for _ in range(n)]
    dead_e, dead_o = set[int](), set[int]()

    def ok(i: int, j: int) -> bool:
        return j not in conf[i] and j not in teams[i] and not (own and oc[j] == ec[i])

    def take(i: int, j: int) -> None:
        teams[i].append(j)
        insort(holders[j], i)
        load[j] += 1

    for i in range(m):  # phase 1: first fit, scanning cyclically from the start offset
        for _ in range(q):
            scan = [*range(start[i], n), *range(start[i])]
            got = next((j for j in scan if load[j] < caps[j] and ok(i, j)), -1)
            if got < 0:
                break
            take(i, got)

    def augment(e: int) -> bool:  # breadth-first search for an augmenting path
        parent: dict[int, Any] = {e: None}
        queue, seen = [e], set()
        for x in queue:
            for j in [*range(start[x], n), *range(start[x])]:
                if j in seen or j in dead_o or not ok(x, j):
                    continue
                seen.add(j)
                if load[j] < caps[j]:
                    take(x, j)
                    while parent[x] is not None:
                        px, pj = parent[x]
                        teams[x].remove(pj)
                        holders[pj].remove(x)
                        teams[px].append(pj)
                        insort(holders[pj], px)
                        x = px
                    return True
                for y in holders[j]:
                    if y not in parent and y not in dead_e:
                        parent[y] = (x, j)
                        queue.append(y)
        dead_e.update(queue)  # nothing reached here can ever reach spare capacity again
        dead_o.update(seen)
        return False

    short = [e for e in range(m if q else 0) if not all(
        len(teams[e]) >= q or augment(e) for _ in range(q))]  # fmt: skip
    return teams, short


def derive(d: dict[str, Any]) -> dict[str, Any]:
    r, rows, offs = norm_rules(d["rules"]), d["enterprises"]["rows"], d["officers"]["rows"]
    need(d["enterprises"]["fields"] == EF and d["officers"]["fields"] == OF, "snapshot fields")
    for snap in (rows, offs):
        need(all(a[0] < b[0] for a, b in pairwise(snap)), "rows unsorted or duplicated")
    strata, ex_e = ent_eligibility(r, rows)
    pools, ex_o = off_eligibility(r, offs)
    e_strata = [[s, [rows[i][0] for i in m]] for s, m in strata]
    o_pools = [[p[0], [[offs[i][0], c] for i, c in zip(p[2], p[3], strict=True)]] for p in pools]
    out = {**d, "algorithm": ALG, "rules": r, "eligibility": {
        "enterprises": {"excluded": ex_e, "strata": e_strata},
        "officers": {"excluded": ex_o, "pools": o_pools}}}  # fmt: skip
    out["hashes"] = {k: sha(canon(out[k])) for k in HASHED}
    if "secret" not in d:
        return out
    secret = bytes.fromhex(d["secret"])
    need(len(secret) == 32 and secret.hex() == d["secret"], "secret is not 64 hex digits")
    texts = [d["public_value"], d["plan_id"], d["period"]]
    need(all("\0" not in t for t in texts), "NUL in a seed input")
    seed = hashlib.sha256(secret + "\0".join(texts).encode()).digest()
    out["commitment"], out["seed"] = sha(secret), seed.hex()
    chosen, sizes = [], []
    for pos, (sid, members) in enumerate(strata):
        ranked = sorted((mac(seed, "rank", sid, rows[i][0]), rows[i][0], i) for i in members)
        k = len(members)
        if r["mode"] != "fixed":
            s = r["strata"][pos]
            k = max(s["min"], math.ceil(Fraction(Decimal(s["ratio"])) * len(members)))
            k = min(k, len(members), k if s["max"] is None else s["max"])
        chosen += [(h, code, i, sid) for h, code, i in ranked[:k]]
        sizes.append([sid, len(members), k])
    chosen.sort()
    codes, ec = [c[1] for c in chosen], [rows[c[2]][2] for c in chosen]
    results = []
    for pid, q, members, caps in pools:
        roster = sorted((mac(seed, "officer", offs[i][0]), offs[i][0], i, c)
                        for i, c in zip(members, caps, strict=True))  # fmt: skip
        by_code: dict[str, set[int]] = {}
        for p, (_, _, i, _) in enumerate(roster):
            for c in offs[i][10]:
                by_code.setdefault(c, set()).add(p)
        conf = [by_code.get(c, set()) for c in codes]
        n, oc = len(roster), [offs[x[2]][6] for x in roster]
        start = [int.from_bytes(mac(seed, "start", pid, c)[:8], "big") % n if n else 0
                 for c in codes]  # fmt: skip
        teams, short = assign(q, [x[3] for x in roster], oc, ec, conf, start, r["own_county_rule"])
        results.append((pid, q, roster, oc, conf, teams, short))
    bad, own_rule = {e for res in results for e in res[6]}, r["own_county_rule"]
    unstaffed = []
    for e in sorted(bad):
        for pid, q, roster, oc, conf, teams, short in results:
            if e not in short:
                continue
            n = len(roster)
            own = sum(j not in conf[e] and own_rule and oc[j] == ec[e] for j in range(n))
            ok = n - len(conf[e]) - own
            why = "pool_empty" if n == 0 else "no_allowed_officer" if ok == 0 else (
                "too_few_allowed_officers" if ok < q else "officers_exhausted")  # fmt: skip
            unstaffed.append({"enterprise": codes[e], "pool": pid, "reason": why, "needed": q,
                              "assigned": len(teams[e]), "pool_size": n, "recused": len(conf[e]),
                              "own_county": own, "allowed": ok})  # fmt: skip
    team_list = []
    for t in (t for t in range(len(codes)) if t not in bad):
        staff: dict[bool, list[str]] = {True: [], False: []}
        for pid, _, roster, _, _, teams, _ in results:
            staff[pid == "expert"] += [roster[j][1] for j in sorted(teams[t])]
        team_list.append({"enterprise": codes[t], "leader": staff[False][0],
                          "officers": staff[False], "experts": staff[True]})  # fmt: skip
    status = "incomplete" if unstaffed else "complete"
    selected = [[c[1], c[3], c[0].hex()] for c in chosen]
    out["result"] = {"selected": selected, "strata": sizes, "teams": team_list,
                     "unstaffed": unstaffed, "status": status}  # fmt: skip
    return out


def diff(a: Any, b: Any, path: str = "") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        keys = [k for k in ORDER if k in a or k in b] if not path else []
        keys += sorted((set(a) | set(b)) - set(keys))
        pairs = [(f"{path}.{k}" if path else k, a.get(k, ABSENT), b.get(k, ABSENT)) for k in keys]
    elif isinstance(a, list) and isinstance(b, list):
        pairs = [(f"{path}[{i}]", x, y) for i, (x, y) in enumerate(zip(a, b, strict=False))]
        pairs.append((f"{path} length", len(a), len(b)))
    else:
        same = type(a) is type(b) and a == b
        return None if same else f"{path}: document has {a!r:.80}, re-derived {b!r:.80}"
    return next((found for p, x, y in pairs if (found := diff(x, y, p))), None)


def verify(data: bytes) -> str | None:
    try:
        # fractions, NaN and Infinity never occur: Fraction refuses NaN and cannot be re-encoded
        doc = json.loads(data.decode("utf-8"), parse_float=Fraction, parse_constant=Fraction)
        need(isinstance(doc, dict) and doc.get("algorithm") == ALG, f"algorithm is not {ALG}")
        keys = set(ORDER) - ({"secret", "public_value", "seed", "result"} - set(doc))
        need(set(doc) == keys, f"document keys must be {sorted(keys)}")
        expected = derive(doc)
    except (ValueError, ArithmeticError, TypeError, KeyError, IndexError, AttributeError) as exc:
        return f"malformed document: {exc!r}"
    if canon(expected) + b"\n" == data:
        return None
    return diff(doc, expected) or "bytes are not canonical JSON followed by one newline"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.exit("usage: python3 verifier.py draw.json")
    data = Path(argv[1]).read_bytes()
    problem = verify(data)
    if problem:
        print(f"FAIL: {problem}")
        return 1
    doc = json.loads(data)
    print(f"OK: {doc['plan_id']} {doc['period']} re-derives ({ALG})")
    print(f"commitment {doc['commitment']}")
    print("\n".join(f"sha256 {k} {v}" for k, v in sorted(doc["hashes"].items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
