"""Working days in mainland China: statutory holidays, make-up working days (调休) and weekends.

The days come from config/holidays.yaml (the 国务院办公厅 notice of each year); this module only
answers questions about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = ["WEEKENDS_ONLY", "WorkCalendar"]


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """Holidays and make-up working days of the years whose notice is known."""

    holidays: frozenset[date]
    workdays: frozenset[date]
    rest_weekdays: frozenset[int]
    years: frozenset[int]

    def day_kind(self, day: date) -> str:
        """ "holiday" (节假日), "rest_day" (公休日) or "workday" (incl. a 调休 working weekend)."""
        if day in self.holidays:
            return "holiday"
        if day in self.workdays:
            return "workday"
        return "rest_day" if day.weekday() in self.rest_weekdays else "workday"

    def is_rest_day(self, day: date) -> bool:
        """Whether nobody is expected at work on `day` (a holiday or an ordinary weekend day)."""
        return self.day_kind(day) != "workday"

    def knows(self, day: date) -> bool:
        """Whether the notice of `day`'s year is in the calendar (else weekends only)."""
        return day.year in self.years


#: Saturdays and Sundays, no holidays: for tests and for a policy directory without the file.
WEEKENDS_ONLY = WorkCalendar(frozenset(), frozenset(), frozenset({5, 6}), frozenset())
