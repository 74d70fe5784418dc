"""holidays.yaml: the statutory holidays and 调休 working days, validated, as a WorkCalendar."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from config.policy_files import load_yaml
from domain.work_calendar import WorkCalendar

log = logging.getLogger(__name__)

FILE = "holidays.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HolidayRange(_Strict):
    """One 放假 range of a notice, inclusive."""

    from_: date = Field(alias="from")
    to: date
    name: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> HolidayRange:
        if self.to < self.from_:
            raise ValueError(f"{self.name}: 'to' {self.to} is before 'from' {self.from_}")
        return self


class YearFile(_Strict):
    """One year's notice."""

    source: str = Field(min_length=10)
    holidays: list[HolidayRange] = Field(min_length=1)
    workdays: list[date]


class HolidaysFile(_Strict):
    """holidays.yaml."""

    version: Literal[1]
    rest_weekdays: list[int]
    rest_weekdays_source: str = Field(min_length=3)
    years: dict[int, YearFile]

    @model_validator(mode="after")
    def _consistent(self) -> HolidaysFile:
        if not set(self.rest_weekdays) <= set(range(7)):
            raise ValueError("rest_weekdays are 0 (Monday) … 6 (Sunday)")
        for year, entry in self.years.items():
            days = [*entry.workdays, *(r.from_ for r in entry.holidays)]
            # A notice may start a holiday on the last days of the year before (元旦 2023).
            stray = [d for d in days if d.year not in (year, year - 1)]
            if stray:
                raise ValueError(f"{year}: days of another year {stray}")
            clash = set(entry.workdays) & _days(entry.holidays)
            if clash:
                raise ValueError(f"{year}: both holiday and working day {sorted(clash)}")
        return self

    def as_domain(self) -> WorkCalendar:
        """The domain calendar."""
        holidays: set[date] = set()
        workdays: set[date] = set()
        for entry in self.years.values():
            holidays |= _days(entry.holidays)
            workdays |= set(entry.workdays)
        return WorkCalendar(
            holidays=frozenset(holidays),
            workdays=frozenset(workdays),
            rest_weekdays=frozenset(self.rest_weekdays),
            years=frozenset(self.years),
        )


def _days(ranges: list[HolidayRange]) -> set[date]:
    return {r.from_ + timedelta(days=i) for r in ranges for i in range((r.to - r.from_).days + 1)}


def load_work_calendar(policy_dir: Path) -> WorkCalendar:
    """Read and validate holidays.yaml; ConfigurationError names the file and the problem."""
    calendar = load_yaml(policy_dir / FILE, HolidaysFile).as_domain()
    log.info("work calendar: statutory holidays known for %s", sorted(calendar.years))
    return calendar
