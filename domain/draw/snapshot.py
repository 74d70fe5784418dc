"""Frozen population snapshots (enterprise and officer rows) and the rules snapshot of a draw."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from operator import itemgetter
from typing import Any

from domain.directory import Enterprise, EnterpriseCode, InspectionHistory, Officer
from domain.draw import verifier
from domain.draw.canonical import paused_gc
from domain.errors import ValidationFailed
from domain.i18n import msg
from domain.plan import (
    DrawMode,
    DrawRules,
    ShutdownPolicy,
    Stratum,
    TeamRule,
    canonical_ratio,
    check_rules,
)

ENTERPRISE_FIELDS = (
    "code",
    "name",
    "county",
    "sector",
    "risk_colour",
    "credit_class",
    "operating_state",
    "deregistered",
    "inspections_this_year",
    "last_inspected_on",
)
#: v2: no name, no certificate number (only whether there is one); `id` is a per-draw pseudonym.
OFFICER_FIELDS = (
    "id",
    "certified",
    "certificate_valid_from",
    "certificate_valid_to",
    "department",
    "county",
    "active",
    "auxiliary",
    "prior_load",
    "conflicts",
)
#: Column types a snapshot row must have (None allowed where the value may be absent).
ENTERPRISE_TYPES: tuple[tuple[type, ...], ...] = (
    (str,),
    (str,),
    (str,),
    (str,),
    (str,),
    (str,),
    (str,),
    (bool,),
    (int,),
    (str, type(None)),
)
OFFICER_TYPES: tuple[tuple[type, ...], ...] = (
    (str,),
    (bool,),
    (str, type(None)),
    (str, type(None)),
    (str,),
    (str,),
    (bool,),
    (bool,),
    (int,),
    (list,),
)

Row = list[Any]


def screen_enterprise_rows(rows: list[Row]) -> tuple[list[Row], list[tuple[str, str]]]:
    """Split enterprise rows into those the verifier accepts cell by cell and the others, with
    the first problem of each (code, reason): one enterprise's bad directory data must not stop
    an unattended draw for all (the caller alarms staff; issue 11)."""
    good: list[Row] = []
    bad: list[tuple[str, str]] = []
    for row in rows:
        code = str(row[0]) if row else "?"
        try:
            verifier.need(len(row) == len(verifier.EF), f"enterprise {code!r}: {len(row)} values")
            for value, kind, name in zip(row, verifier.ET, verifier.EF, strict=True):
                verifier.check_cell(value, kind, f"enterprise {code!r}.{name}")
        except ValueError as exc:
            bad.append((code, str(exc)))
            continue
        good.append(row)
    return good, bad


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def enterprise_rows(
    enterprises: Iterable[Enterprise],
    history: Mapping[EnterpriseCode, InspectionHistory] | None = None,
) -> list[Row]:
    """Snapshot rows of the enterprise directory, sorted by credit code, duplicates refused."""
    past = history or {}
    none = InspectionHistory(EnterpriseCode(""))
    with paused_gc():
        rows: list[Row] = []
        add = rows.append
        for e in enterprises:
            h = past.get(e.credit_code, none)
            last = h.last_inspected_on
            add([e.credit_code, e.name, e.county, e.sector, e.risk_colour, e.credit_class,
                 e.operating_state, e.deregistered, h.inspections_this_year,
                 None if last is None else last.isoformat()])  # fmt: skip
        rows.sort(key=itemgetter(0))
    _refuse_duplicates(rows, "enterprise")
    return rows


def officer_rows(
    officers: Iterable[Officer],
    prior_load: Mapping[str, int] | None = None,
    pseudonym: Callable[[str], str] | None = None,
) -> list[Row]:
    """Snapshot rows of the officer directory (experts included), sorted by (pseudonymous) id.

    Names, certificate numbers, phone and ID numbers are never part of a row; `pseudonym` maps
    an officer id to the id published (the service and the CLI always pass one)."""
    prior_load = prior_load or {}
    rename = pseudonym or str
    rows: list[Row] = []
    for off in officers:
        rows.append(
            [
                rename(off.officer_id),
                bool(off.certificate_no),
                _iso(off.certificate_valid_from),
                _iso(off.certificate_valid_to),
                off.department,
                off.county,
                off.active,
                off.auxiliary,
                prior_load.get(off.officer_id, 0),
                sorted({c.credit_code for c in off.conflicts}),
            ]
        )
    rows.sort(key=lambda r: r[0])
    _refuse_duplicates(rows, "officer")
    return rows


def _refuse_duplicates(rows: list[Row], what: str) -> None:
    for prev, cur in itertools.pairwise(rows):
        if prev[0] == cur[0]:
            raise ValidationFailed(msg("draw.population_duplicate", what=what, cur=cur[0]))


def check_snapshot(
    snapshot: Any, fields: tuple[str, ...], types: tuple[tuple[type, ...], ...], what: str
) -> list[Row]:
    """Return the rows of a parsed snapshot after checking its shape, types, order and NULs."""
    if not isinstance(snapshot, dict) or set(snapshot) != {"fields", "rows"}:
        raise ValidationFailed(msg("draw.snapshot_shape", what=what))
    if snapshot["fields"] != list(fields):
        raise ValidationFailed(msg("draw.snapshot_fields", what=what, fields=list(fields)))
    rows = snapshot["rows"]
    if not isinstance(rows, list) or not all(
        type(r) is list and len(r) == len(fields) for r in rows
    ):
        raise ValidationFailed(msg("draw.snapshot_row_width", what=what, count=len(fields)))
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in fields]
    for name, column, allowed in zip(fields, columns, types, strict=True):
        found = set(map(type, column))
        if not found <= set(allowed):
            raise ValidationFailed(
                msg(
                    "draw.snapshot_value_type",
                    what=what,
                    name=name,
                    value=[t.__name__ for t in allowed],
                )
            )
    keys = columns[0]
    if any(a >= b for a, b in itertools.pairwise(keys)):
        raise ValidationFailed(msg("draw.snapshot_row_order", what=what, fields=fields[0]))
    if any("\x00" in k for k in keys):
        raise ValidationFailed(msg("draw.snapshot_nul", what=what))
    return rows


def rules_to_json(rules: DrawRules) -> dict[str, Any]:
    """The canonical rules snapshot: lists that are sets are sorted; strata keep their order."""
    return {
        "period_start": rules.period_start.isoformat(),
        "period_end": rules.period_end.isoformat(),
        "counties": sorted(rules.counties),
        "sectors": sorted(rules.sectors),
        "mode": rules.mode.value,
        "fixed_list": sorted(rules.fixed_list),
        "strata": [
            {
                "id": s.stratum_id,
                "sector": s.sector,
                "risk_colour": s.risk_colour,
                "credit_class": s.credit_class,
                "ratio": canonical_ratio(s.ratio),
                "min": s.minimum,
                "max": s.maximum,
                "priority": s.staffing_priority,
            }
            for s in rules.strata
        ],
        "yearly_cap": rules.yearly_cap,
        "cooldown_days": rules.cooldown_days,
        "team": {
            "size": rules.team.size,
            "departments": list(rules.team.departments),
            "quotas": list(rules.team.quotas),
            "experts": rules.team.experts,
        },
        "workload_cap": rules.workload_cap,
        "own_county_rule": rules.own_county_rule,
        "shutdown_policy": rules.shutdown_policy.value,
        "shutdown_states": sorted(rules.shutdown_states),
        "excluded": [[code, reason] for code, reason in sorted(rules.excluded)],
    }


def _want(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    if isinstance(value, bool) and kind is int:
        raise ValidationFailed(msg("draw.rules_integer", where=where))
    if not isinstance(value, kind):
        raise ValidationFailed(msg("draw.rules_type", where=where))
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    items = _want(value, list, where)
    return tuple(_want(v, str, f"{where}[]") for v in items)


def _date(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(_want(value, str, where))
    except ValueError as exc:
        raise ValidationFailed(msg("draw.rules_date", where=where)) from exc


def rules_from_json(data: Any, *, template: bool = False) -> DrawRules:
    """Parse and check a rules snapshot (the inverse of `rules_to_json`).

    A stored plan template written before version 2 has no stratum priority (`template=True`
    accepts that: the default priority applies)."""
    expected = {
        "period_start",
        "period_end",
        "counties",
        "sectors",
        "mode",
        "fixed_list",
        "strata",
        "yearly_cap",
        "cooldown_days",
        "team",
        "workload_cap",
        "own_county_rule",
        "shutdown_policy",
        "shutdown_states",
        "excluded",
    }
    if not isinstance(data, dict) or set(data) != expected:
        raise ValidationFailed(msg("draw.rules_keys", expected=sorted(expected)))
    strata = []
    for i, s in enumerate(_want(data["strata"], list, "strata")):
        keys = {"id", "sector", "risk_colour", "credit_class", "ratio", "min", "max", "priority"}
        if template and isinstance(s, dict) and "priority" not in s:
            s = {**s, "priority": 0}
        if not isinstance(s, dict) or set(s) != keys:
            raise ValidationFailed(msg("draw.rules_stratum_keys", i=i, keys=sorted(keys)))
        strata.append(
            Stratum(
                sector=_want(s["sector"], str, f"strata[{i}].sector"),
                risk_colour=_want(s["risk_colour"], str, f"strata[{i}].risk_colour"),
                credit_class=_want(s["credit_class"], str, f"strata[{i}].credit_class"),
                ratio=_want(s["ratio"], str, f"strata[{i}].ratio"),
                minimum=_want(s["min"], int, f"strata[{i}].min"),
                maximum=None if s["max"] is None else _want(s["max"], int, f"strata[{i}].max"),
                priority=_want(s["priority"], int, f"strata[{i}].priority"),
            )
        )
    team = _want(data["team"], dict, "team")
    if set(team) != {"size", "departments", "quotas", "experts"}:
        raise ValidationFailed(msg("draw.rules_team_keys"))
    excluded = []
    for pair in _want(data["excluded"], list, "excluded"):
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)
        ):
            raise ValidationFailed(msg("draw.rules_excluded"))
        excluded.append((EnterpriseCode(pair[0]), pair[1]))
    try:
        mode = DrawMode(data["mode"])
        shutdown = ShutdownPolicy(data["shutdown_policy"])
    except ValueError as exc:
        raise ValidationFailed(msg("draw.rules_invalid", exc=exc)) from exc
    rules = DrawRules(
        period_start=_date(data["period_start"], "period_start"),
        period_end=_date(data["period_end"], "period_end"),
        counties=_strings(data["counties"], "counties"),
        sectors=_strings(data["sectors"], "sectors"),
        mode=mode,
        fixed_list=tuple(EnterpriseCode(c) for c in _strings(data["fixed_list"], "fixed_list")),
        strata=tuple(strata),
        yearly_cap=_want(data["yearly_cap"], int, "yearly_cap"),
        cooldown_days=_want(data["cooldown_days"], int, "cooldown_days"),
        team=TeamRule(
            size=_want(team["size"], int, "team.size"),
            departments=_strings(team["departments"], "team.departments"),
            quotas=tuple(_want(q, int, "team.quotas[]") for q in _want(team["quotas"], list, "q")),
            experts=_want(team["experts"], int, "team.experts"),
        ),
        workload_cap=_want(data["workload_cap"], int, "workload_cap"),
        own_county_rule=_want(data["own_county_rule"], bool, "own_county_rule"),
        shutdown_policy=shutdown,
        shutdown_states=_strings(data["shutdown_states"], "shutdown_states"),
        excluded=tuple(excluded),
    )
    return check_rules(rules)
