"""Telemetry of one batch: exactly-once by payload digest, COPY, thresholds, last values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from domain.alarms import Rule
from domain.monitoring import AlarmAction, AlarmClear, AlarmKey, EnterpriseId
from domain.telemetry import LevelSeverities, TagLimits, TagState, evaluate, level_outcome
from monitor.parse import Accepted, Inbound
from monitor.schemas_site import TelemetryMessage
from storage import ingest_keys, telemetry, telemetry_tags

TagKey = tuple[str, str]


@dataclass
class TelemetryResult:
    """What the telemetry part of a batch did."""

    points: int = 0
    duplicates: int = 0
    duplicate_msgs: list[Inbound] = field(default_factory=list)
    actions: list[AlarmAction] = field(default_factory=list)


async def store_telemetry(
    conn: AsyncConnection[Any],
    msgs: list[Accepted],
    *,
    registry: dict[TagKey, TagLimits],
    registered: dict[str, frozenset[str]],
    stale_open: set[tuple[str, str]],
    severities: LevelSeverities,
) -> TelemetryResult:
    """Store new telemetry messages and evaluate the registered tags' limits (`registered`:
    the registry's tags per enterprise, so unregistered readings cost one set lookup)."""
    out = TelemetryResult()
    if not msgs:
        return out
    unique: dict[tuple[str, bytes], Accepted] = {}
    for a in msgs:
        key = (str(a.enterprise_id), a.digest)
        if key in unique:
            out.duplicates += 1
            out.duplicate_msgs.append(a.msg)
        else:
            unique[key] = a
    new = await ingest_keys.claim_telemetry_keys(conn, keys=list(unique))
    out.duplicates += len(unique) - len(new)
    out.duplicate_msgs.extend(a.msg for key, a in unique.items() if key not in new)
    rows: list[tuple[datetime, str, str, float | None, str]] = []
    readings: dict[TagKey, list[tuple[datetime, float | None, str]]] = {}
    for key, a in unique.items():
        if key not in new:
            continue
        body = a.body
        assert isinstance(body, TelemetryMessage)
        ent = a.enterprise_id
        default_ts = body.ts
        tags = registered.get(ent)
        for p in body.points:
            tag = p["tag"]
            value = p["value"]
            ts = p.get("ts", default_ts)
            quality = p.get("quality", "good")
            rows.append((ts, ent, tag, value, quality))
            if tags is not None and tag in tags:
                readings.setdefault((ent, tag), []).append((ts, value, quality))
    await telemetry.copy_telemetry(conn, rows=rows)
    out.points = len(rows)
    if readings:
        await _evaluate(conn, readings, registry, stale_open, severities, out)
    return out


async def _evaluate(
    conn: AsyncConnection[Any],
    readings: dict[TagKey, list[tuple[datetime, float | None, str]]],
    registry: dict[TagKey, TagLimits],
    stale_open: set[tuple[str, str]],
    severities: LevelSeverities,
    out: TelemetryResult,
) -> None:
    limited = [k for k in readings if registry[k].has_limits]
    states = await telemetry_tags.lock_states(conn, keys=limited)
    changed: list[tuple[str, str, TagState]] = []
    last: dict[TagKey, tuple[float | None, datetime]] = {}
    for key, values in readings.items():
        values.sort(key=lambda v: v[0])
        ts_last, value_last, _ = values[-1]
        last[key] = (value_last, ts_last)
        ent, tag = key
        if (ent, f"tag:{tag}") in stale_open:
            out.actions.append(
                AlarmClear(AlarmKey(EnterpriseId(ent), Rule.TELEMETRY_STALE, f"tag:{tag}"), ts_last)
            )
        if key not in states:
            continue
        limits = registry[key]
        state = start = states[key]
        for ts, value, quality in values:
            if value is None or quality != "good":
                continue
            state, level = evaluate(limits, state, value, ts)
            if level is not None:
                outcome = level_outcome(
                    EnterpriseId(ent), tag, level, value, limits, ts, severities
                )
                out.actions.extend(outcome.actions)
        if state != start:
            changed.append((ent, tag, state))
    await telemetry_tags.save_states(conn, states=changed)
    await telemetry_tags.save_last_values(conn, last=last)
