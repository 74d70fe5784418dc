"""What a simulated site says, without any network: a small plant that produces uplinks.

Each call to `next()` returns one message (kind, payload) for the contract's uplink topics:
telemetry with occasional excursions, special operations with gas tests (sometimes late,
missing or out of limits), maintenance, shutdowns with restart requests that wait for the
decision notice, trial production, the daily commitment and a small share of malformed input.
The simulator (MQTT) and the ingest benchmark both use it.

With a paced profile (monitor/sim_profile.py, the demo's default) a site follows a calendar: it
commits to the day's planned operations in the morning and then does them, tests gas while the
work goes on, and gets something wrong only as often as the profile says. The `STORM` profile
draws every message from the old fixed mix instead (load tests, benchmarks).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.work_calendar import WEEKENDS_ONLY, WorkCalendar
from monitor.demo_seed import DEMO_TAGS, DemoTag
from monitor.sim_pace import PacedPlan
from monitor.sim_profile import NORMAL, SimProfile

Payload = dict[str, Any] | bytes

GRADES = {
    "hot_work": ("special", "1", "2"),
    "work_at_height": ("I", "II", "III", "IV"),
    "lifting": ("1", "2", "3"),
}
PERMIT_HOURS = {
    "hot_work": 6,
    "confined_space": 12,
    "work_at_height": 48,
    "lifting": 8,
    "temp_power": 120,
    "blind_plate": 8,
    "excavation": 24,
    "road_break": 24,
}
GAS_TYPES = ("hot_work", "confined_space")
LOCATIONS = ("罐区 T-101", "反应釜 R-201", "管廊 3#", "装卸站台", "污水处理站", "仓库 B")
PEOPLE = ("王强", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵磊")


@dataclass
class _Op:
    op_type: str
    grade: str | None
    paused: bool = False
    guardian: str = ""


@dataclass
class SiteModel:
    """One simulated enterprise."""

    code: str
    rng: random.Random
    tz: ZoneInfo
    malformed_share: float = 0.01
    mode: str = "operating"
    request: str | None = None
    decision: str | None = None
    ops: dict[str, _Op] = field(default_factory=dict)
    maintenance: list[str] = field(default_factory=list)
    trial: str | None = None
    excursion: tuple[str, int] | None = None
    committed_day: str | None = None
    serial: int = 0
    pending_acks: list[str] = field(default_factory=list)
    profile: SimProfile = NORMAL
    #: Which days are rest days (holidays.yaml); weekends only when not given.
    calendar: WorkCalendar = WEEKENDS_ONLY
    pace: PacedPlan | None = None

    def _id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.code[-6:]}-{self.serial}-{self.rng.randrange(10**6):06d}"

    def new_id(self, prefix: str) -> str:
        """A fresh id for an operation, maintenance job or trial."""
        return self._id(prefix)

    def _event(self, now: datetime, type_: str, **fields: Any) -> tuple[str, Payload]:
        return "event", {
            "event_id": self._id(type_[:3]),
            "ts": now.isoformat(),
            "type": type_,
            **fields,
        }

    def next(self, now: datetime) -> tuple[str, Payload]:
        """The next uplink message of this site."""
        if self.profile.paced:
            if self.pace is None:
                self.pace = PacedPlan(self, now)
            return self.pace.next(now)
        day = now.astimezone(self.tz).date().isoformat()
        if self.committed_day != day:
            self.committed_day = day
            return "commitment", self.commitment(now, day)
        if self.pending_acks:
            ref = self.pending_acks.pop(0)
            return "ack", {"ref": ref, "ts": now.isoformat(), "by": self.rng.choice(PEOPLE)}
        roll = self.rng.random()
        if roll < self.malformed_share:
            return self.malformed(now)
        roll = self.rng.random()
        if roll < 0.70:
            return "telemetry", self.telemetry(now)
        if roll < 0.86:
            return self.special_op(now)
        if roll < 0.91:
            return self.maintenance_step(now)
        if roll < 0.98:
            return self.shutdown_step(now)
        return self.trial_step(now)

    def on_downlink(self, kind: str, body: dict[str, Any]) -> None:
        """React to guidance and notices: acknowledge them, note restart decisions."""
        ref = body.get("id")
        if isinstance(ref, str) and body.get("requires_ack", True):
            self.pending_acks.append(ref)
        if kind == "notice" and body.get("kind") == "restart_decision":
            if body.get("request_ref") == self.request:
                self.decision = str(body.get("decision"))

    def commitment(
        self,
        now: datetime,
        day: str,
        planned: list[dict[str, Any]] | None = None,
        maintenance: int | None = None,
    ) -> dict[str, Any]:
        """Today's commitment: the planned operations and maintenance given, else random."""
        if planned is None:
            planned = [
                {"op_type": "hot_work", "grade": "2", "count": self.rng.randint(0, 3)},
                {"op_type": "confined_space", "count": self.rng.randint(0, 2)},
                {"op_type": "work_at_height", "count": self.rng.randint(0, 2)},
            ]
        total = self.rng.randint(2, 8)
        stopped = total if self.mode != "operating" else self.rng.randint(0, 1)
        return {
            "date": day,
            "units": {"total": total, "running": total - stopped, "stopped": stopped},
            "special_ops": planned,
            "maintenance": self.rng.randint(0, 2) if maintenance is None else maintenance,
            "contractor_work": self.rng.randint(0, 1),
            "trial_production": self.trial is not None,
            "startup_shutdown": self.rng.random() < 0.2
            if planned is None
            else self.mode != "operating",
            "risk_level": self.rng.choice((2, 3, 3, 4)),
            "committed_by": self.rng.choice(PEOPLE),
            "committed_at": now.isoformat(),
        }

    def _value(self, tag: DemoTag) -> float:
        if self.excursion and self.excursion[0] == tag.tag:
            name, left = self.excursion
            self.excursion = (name, left - 1) if left > 1 else None
            high = tag.hh if tag.hh is not None else (tag.h or tag.normal) * 1.2
            return round(self.rng.uniform(tag.h or tag.normal, high * 1.05), 3)
        return round(self.rng.gauss(tag.normal, tag.spread), 3)

    def telemetry(self, now: datetime, *, excursion: bool | None = None) -> dict[str, Any]:
        """One reading of every tag; an excursion starts now and then (or when asked to)."""
        if excursion is None:
            excursion = self.rng.random() < 0.01
        if self.excursion is None and excursion:
            self.excursion = (self.rng.choice(DEMO_TAGS).tag, self.rng.randint(3, 12))
        return {
            "ts": now.isoformat(),
            "points": [{"tag": t.tag, "value": self._value(t)} for t in DEMO_TAGS],
        }

    def special_op(self, now: datetime) -> tuple[str, Payload]:
        """Start, test, interrupt, resume or end a special operation."""
        if len(self.ops) < 2 and (not self.ops or self.rng.random() < 0.4):
            return self._start_op(now)
        op_id = self.rng.choice(sorted(self.ops))
        op = self.ops[op_id]
        roll = self.rng.random()
        if op.op_type in GAS_TYPES and roll < 0.45:
            return self._event(
                now, "gas_test", op_id=op_id, **self._gas(bad=self.rng.random() < 0.04)
            )
        if roll < 0.65:
            op.paused = not op.paused
            return self._event(
                now, "special_op_pause" if op.paused else "special_op_resume", op_id=op_id
            )
        del self.ops[op_id]
        return self._event(now, "special_op_end", op_id=op_id)

    def gas(self, *, bad: bool) -> dict[str, Any]:
        """A gas analysis (out of limits when `bad`)."""
        return self._gas(bad=bad)

    def _gas(self, *, bad: bool) -> dict[str, Any]:
        # % LEL readings name their gas: GB 30871-2022 5.3.2 judges them by volume.
        if bad:
            return {
                "o2_pct": round(self.rng.uniform(17.5, 19.3), 1),
                "lel_pct": round(self.rng.uniform(12, 30), 1),
                "gas": "CH4",
                "analyst": self.rng.choice(PEOPLE),
            }
        return {
            "o2_pct": round(self.rng.uniform(20.6, 20.95), 2),
            "lel_pct": round(self.rng.uniform(0, 3), 1),
            "gas": "CH4",
            "analyst": self.rng.choice(PEOPLE),
        }

    def _start_op(self, now: datetime) -> tuple[str, Payload]:
        op_type = self.rng.choice(tuple(PERMIT_HOURS))
        grades = GRADES.get(op_type)
        grade = (
            None
            if grades is None
            else self.rng.choice(grades[1:] if op_type == "hot_work" else grades)
        )
        hours = PERMIT_HOURS[op_type] * (3 if self.rng.random() < 0.03 else 1)
        _, fields = self.op_fields(now, op_type, grade, hours)
        if op_type in GAS_TYPES:
            roll = self.rng.random()
            if roll < 0.80:
                fields["gas_test"] = {
                    "ts": (now - timedelta(minutes=10)).isoformat(),
                    **self._gas(bad=False),
                }
            elif roll < 0.90:
                fields["gas_test"] = {
                    "ts": (now - timedelta(minutes=45)).isoformat(),
                    **self._gas(bad=False),
                }
            elif roll < 0.95:
                fields["gas_test"] = {
                    "ts": (now - timedelta(minutes=5)).isoformat(),
                    **self._gas(bad=True),
                }
        return self._event(now, "special_op_start", **fields)

    def op_fields(
        self,
        now: datetime,
        op_type: str,
        grade: str | None,
        hours: float,
        guardian: str | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """A new operation's id and its start fields (no gas test; the caller adds one)."""
        op_id = self._id("OP")
        self.ops[op_id] = _Op(op_type, grade)
        if guardian is None:
            guardian = "" if self.rng.random() < 0.03 else self.rng.choice(PEOPLE)
        fields: dict[str, Any] = {
            "op_id": op_id,
            "op_type": op_type,
            "permit_no": f"ZYP-{self.rng.randrange(10**6):06d}",
            "valid_from": (now - timedelta(minutes=5)).isoformat(),
            "valid_to": (now + timedelta(hours=hours)).isoformat(),
            "location": self.rng.choice(LOCATIONS),
            "guardian": guardian,
            "guardian_cert": f"JH-{self.rng.randrange(10**5):05d}",
        }
        if op_type == "hot_work":
            # Fixed explosion-proof cameras film hot work (needed once 升级管理 makes it 特级).
            fields["camera"] = f"CAM-{self.rng.randrange(1, 40):02d}"
        if grade is not None:
            fields["grade"] = grade
        return op_id, fields

    def event(self, now: datetime, type_: str, **fields: Any) -> tuple[str, Payload]:
        """An operation event with a fresh id."""
        return self._event(now, type_, **fields)

    def maintenance_step(self, now: datetime) -> tuple[str, Payload]:
        """Open or close a maintenance job."""
        if self.maintenance and self.rng.random() < 0.5:
            maint_id = self.maintenance.pop(0)
            return self._event(now, "maintenance_end", maint_id=maint_id)
        return self.maintenance_step_start(now)

    def maintenance_step_start(self, now: datetime) -> tuple[str, Payload]:
        """Open a maintenance job."""
        maint_id = self._id("MT")
        self.maintenance.append(maint_id)
        scope = "plant" if self.rng.random() < 0.1 else "unit"
        extra: dict[str, Any] = {"units": [f"U{self.rng.randint(1, 6)}"]} if scope == "unit" else {}
        return self._event(
            now,
            "maintenance_start",
            maint_id=maint_id,
            scope=scope,
            planned_end=(now + timedelta(hours=8)).isoformat(),
            **extra,
        )

    def shutdown_step(self, now: datetime) -> tuple[str, Payload]:
        """Shutdown → restart request → (decision) → resume; sometimes resume without approval."""
        if self.mode == "operating":
            self.mode = "shutdown"
            scope = "plant" if self.rng.random() < 0.5 else "unit"
            extra: dict[str, Any] = {"units": ["U1", "U2"]} if scope == "unit" else {}
            return self._event(
                now,
                "shutdown",
                scope=scope,
                reason=self.rng.choice(("设备检修", "原料短缺", "安全整改", "环保限产")),
                **extra,
            )
        if self.mode == "shutdown":
            self.mode = "requested"
            kind, payload = self._event(
                now,
                "resume_request",
                planned_at=(now + timedelta(hours=2)).isoformat(),
                self_check=[
                    {"item": "安全设施完好", "ok": True},
                    {"item": "人员培训到位", "ok": self.rng.random() > 0.1},
                    {"item": "应急预案演练", "ok": True},
                ],
            )
            assert isinstance(payload, dict)
            self.request, self.decision = payload["event_id"], None
            return kind, payload
        if self.decision == "rejected":
            self.mode, self.request, self.decision = "shutdown", None, None
            return "telemetry", self.telemetry(now)
        if self.decision == "approved" or self.rng.random() < 0.05:
            self.mode, ref, self.request, self.decision = "operating", self.request, None, None
            return self._event(now, "resume", request_ref=ref)
        return "telemetry", self.telemetry(now)

    def trial_step(self, now: datetime) -> tuple[str, Payload]:
        """Start or end trial production."""
        if self.trial is None:
            self.trial = self._id("TR")
            days = self.rng.choice((90, 180, 365, 400))
            return self._event(
                now,
                "trial_start",
                trial_id=self.trial,
                planned_end=(now + timedelta(days=days)).isoformat(),
            )
        trial, self.trial = self.trial, None
        return self._event(now, "trial_end", trial_id=trial)

    def malformed(self, now: datetime) -> tuple[str, Payload]:
        """Something a badly written device might send."""
        roll = self.rng.randrange(5)
        if roll == 0:
            return "event", b'{"event_id": "broken", "ts": '
        if roll == 1:
            return "event", {
                "event_id": self._id("bad"),
                "ts": now.replace(tzinfo=None).isoformat(),
                "type": "shutdown",
                "scope": "plant",
                "reason": "no offset",
            }
        if roll == 2:
            return "event", {
                "event_id": self._id("bad"),
                "ts": (now + timedelta(hours=2)).isoformat(),
                "type": "shutdown",
                "scope": "plant",
                "reason": "clock ahead",
            }
        if roll == 3:
            return "event", {
                "event_id": self._id("bad"),
                "ts": now.isoformat(),
                "type": "explosion",
            }
        return "telemetry", {"ts": now.isoformat(), "points": [{"tag": "TT101", "value": "hot"}]}


def encode(payload: Payload) -> bytes:
    """Bytes on the wire."""
    return (
        payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    )
