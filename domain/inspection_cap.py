"""The yearly cap on inspections of one enterprise (国办发〔2024〕54号: 对同一企业的年度行政检查
频次设定上限; measures 17 and 18 of the seed policy): every inspection that is not cancelled
counts, drawn or made by hand (重点、举报、复查). The cap itself is the bureau's number
(config/sampling_strata.yaml `defaults.yearly_cap`)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import RuleViolation
from domain.i18n import msg


@dataclass(frozen=True, slots=True)
class YearlyCap:
    """An enterprise's cap in a calendar year and how much of it is taken."""

    year: int
    cap: int
    counted: int

    @property
    def remaining(self) -> int:
        """Inspections that may still be made this year (never negative)."""
        return max(0, self.cap - self.counted)


def ensure_within_cap(cap: YearlyCap) -> None:
    """Refuse an inspection made by hand once the enterprise's yearly cap is taken."""
    if cap.remaining <= 0:
        raise RuleViolation(
            msg("inspection.yearly_cap_reached", year=cap.year, cap=cap.cap, counted=cap.counted)
        )
