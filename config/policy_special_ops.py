"""special_operations.yaml: the validated file model and its conversion to the domain policy."""

from __future__ import annotations

import math
import re
from datetime import time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.special_ops import (
    ANY_GRADE,
    GRADES,
    Combustible,
    GasLimits,
    OpType,
    SpecialOpsPolicy,
    ToxicLimit,
    TypePolicy,
    UpgradeCalendar,
)
from domain.special_ops_gas import gas_key
from domain.work_calendar import WorkCalendar


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Source = Field(min_length=3)


class OpTypeFile(_Strict):
    """One operation type in special_operations.yaml."""

    name: str
    permit_max_hours: dict[str, float | None]
    permit_source: str = Source
    gas_test_before_min: float | None
    gas_test_before_source: str = Source
    retest_after_pause_min: dict[str, float] | None
    retest_source: str = Source
    daily_test: bool
    daily_test_source: str = Source
    max_test_age_min: dict[str, float | None]
    max_test_age_source: str = Source


class CombustibleFile(_Strict):
    """One combustible gas and its LEL."""

    name: str
    lel_vol_pct: float = Field(gt=0, lt=100)
    aliases: list[str] = []


class ToxicFile(_Strict):
    """One toxic gas: the GBZ 2.1 limit used (MAC, else PC-TWA) in mg/m³."""

    name: str
    basis: Literal["MAC", "PC-TWA"]
    mg_m3: float = Field(gt=0)
    molar_mass: float = Field(gt=0)
    aliases: list[str] = []


class GasLimitsFile(_Strict):
    """gas_limits in special_operations.yaml."""

    o2_min_pct: float = Field(gt=0, lt=100)
    o2_max_pct: float = Field(gt=0, lt=100)
    o2_max_enriched_pct: float = Field(gt=0, lt=100)
    o2_source: str = Source
    lel_split_vol_pct: float = Field(gt=0)
    vol_pct_max_lel_ge: float = Field(gt=0)
    vol_pct_max_lel_lt: float = Field(gt=0)
    vol_source: str = Source
    combustibles_source: str = Source
    combustibles: dict[str, CombustibleFile] = Field(min_length=1)
    toxic_source: str = Source
    molar_volume_l: float = Field(gt=20, lt=25)
    toxics: dict[str, ToxicFile] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> GasLimitsFile:
        if not self.o2_min_pct < self.o2_max_pct <= self.o2_max_enriched_pct:
            raise ValueError("need o2_min_pct < o2_max_pct <= o2_max_enriched_pct")
        if self.vol_pct_max_lel_lt > self.vol_pct_max_lel_ge:
            raise ValueError("the limit for LEL < split must not be laxer than for LEL >= split")
        return self

    def as_domain(self) -> GasLimits:
        """The domain limits, tables keyed by every upper-case name and alias."""
        combustibles: dict[str, Combustible] = {}
        for key, c in self.combustibles.items():
            entry = Combustible(key, c.name, c.lel_vol_pct)
            for alias in (key, c.name, *c.aliases):
                combustibles[gas_key(alias)] = entry
        toxics: dict[str, ToxicLimit] = {}
        for key, t in self.toxics.items():
            # Rounded down to 0.001 ppm: the conversion never loosens the limit.
            ppm = math.floor(t.mg_m3 * self.molar_volume_l / t.molar_mass * 1000) / 1000
            entry_t = ToxicLimit(key, t.name, ppm, t.basis)
            for alias in (key, t.name, *t.aliases):
                toxics[gas_key(alias)] = entry_t
        return GasLimits(
            o2_min_pct=self.o2_min_pct,
            o2_max_pct=self.o2_max_pct,
            o2_max_enriched_pct=self.o2_max_enriched_pct,
            lel_split_vol_pct=self.lel_split_vol_pct,
            vol_pct_max_lel_ge=self.vol_pct_max_lel_ge,
            vol_pct_max_lel_lt=self.vol_pct_max_lel_lt,
            combustibles=combustibles,
            toxics=toxics,
        )


class UpgradeFile(_Strict):
    """upgrade in special_operations.yaml (升级管理)."""

    source: str = Source
    night_start: str
    night_end: str
    night_source: str = Source

    @field_validator("night_start", "night_end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("must be HH:MM (24 h)")
        return value

    def as_domain(self, tz: str, calendar: WorkCalendar) -> UpgradeCalendar:
        """The domain calendar: holidays and 调休 from holidays.yaml, night hours from here."""
        return UpgradeCalendar(
            holidays=calendar.holidays,
            workdays=calendar.workdays,
            rest_weekdays=calendar.rest_weekdays,
            night_start=time.fromisoformat(self.night_start),
            night_end=time.fromisoformat(self.night_end),
            tz=ZoneInfo(tz),
        )


class VideoFile(_Strict):
    """video in special_operations.yaml."""

    grades: dict[OpType, list[str]]
    source: str = Source


class GuardianFile(_Strict):
    """guardian in special_operations.yaml."""

    cert_required: bool
    source: str = Source


class SpecialOpsFile(_Strict):
    """special_operations.yaml."""

    version: Literal[2]
    standard: str
    timezone: str
    types: dict[OpType, OpTypeFile]
    gas_limits: GasLimitsFile
    upgrade: UpgradeFile
    video: VideoFile
    guardian: GuardianFile

    @model_validator(mode="after")
    def _complete(self) -> SpecialOpsFile:
        missing = sorted(set(OpType) - set(self.types))
        if missing:
            raise ValueError(f"every operation type needs an entry; missing {missing}")
        for op_type, entry in self.types.items():
            allowed = {ANY_GRADE, *GRADES.get(op_type, ())}
            for table in (
                entry.permit_max_hours,
                entry.retest_after_pause_min or {},
                entry.max_test_age_min,
            ):
                bad = sorted(set(table) - allowed)
                if bad:
                    raise ValueError(
                        f"{op_type.value}: unknown grade key(s) {bad}; allowed {sorted(allowed)}"
                    )
        for op_type, grades in self.video.grades.items():
            bad = sorted(set(grades) - set(GRADES.get(op_type, ())))
            if bad:
                raise ValueError(f"video: unknown grade(s) {bad} of {op_type.value}")
        ZoneInfo(self.timezone)
        return self

    def as_domain(self, calendar: WorkCalendar) -> SpecialOpsPolicy:
        """The domain policy; `calendar` (holidays.yaml) gives the days of 升级管理."""

        def hours(table: dict[str, float | None]) -> dict[str, timedelta | None]:
            return {k: None if v is None else timedelta(hours=v) for k, v in table.items()}

        def minutes(table: dict[str, float | None] | None) -> dict[str, timedelta | None]:
            return {
                k: None if v is None else timedelta(minutes=v) for k, v in (table or {}).items()
            }

        types = {
            op_type: TypePolicy(
                op_type=op_type,
                permit_max=hours(e.permit_max_hours),
                gas_test_before=(
                    None
                    if e.gas_test_before_min is None
                    else timedelta(minutes=e.gas_test_before_min)
                ),
                retest_after_pause={
                    k: v for k, v in minutes(dict(e.retest_after_pause_min or {})).items() if v
                }
                or None,
                max_test_age=minutes(e.max_test_age_min),
            )
            for op_type, e in self.types.items()
        }
        return SpecialOpsPolicy(
            types=types,
            gas=self.gas_limits.as_domain(),
            upgrade=self.upgrade.as_domain(self.timezone, calendar),
            daily_test_types=frozenset(t for t, e in self.types.items() if e.daily_test),
            video_grades={t: frozenset(g) for t, g in self.video.grades.items()},
            guardian_cert_required=self.guardian.cert_required,
        )
