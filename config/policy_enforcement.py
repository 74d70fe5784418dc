"""Loading the checklist catalogue and the first-violation policy (YAML in the policy dir)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from config.policy_files import load_yaml
from domain.enforcement import ChecklistItem
from domain.licences import STATUTORY_APPLY_MONTHS, RenewalRule, RenewalSchedule


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CatalogueItem(_Strict):
    """One checklist item in the YAML file."""

    code: str = Field(pattern=r"^[A-Z]{2}-[A-Z]+-\d{2}$")
    title: str = Field(min_length=2)
    legal_basis: str = Field(min_length=2)
    penalty_basis: str | None = None
    first_violation_eligible: bool


class Catalogue(_Strict):
    """checklist_catalogue.yaml."""

    version: Literal[1]
    items: list[CatalogueItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> Catalogue:
        codes = [i.code for i in self.items]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"duplicate item codes: {', '.join(dupes)}")
        return self

    def as_domain(self) -> dict[str, ChecklistItem]:
        """The catalogue keyed by item code."""
        return {
            i.code: ChecklistItem(
                i.code, i.title, i.legal_basis, i.penalty_basis, i.first_violation_eligible
            )
            for i in self.items
        }


class FirstViolation(_Strict):
    """first_violation.yaml."""

    version: Literal[1]
    #: The edition of the first-violation list, stored with every decision.
    edition: str = Field(default="", max_length=40)
    #: 行政处罚法 第三十六条 is the outer bound: two years, five where life and health are at stake.
    lookback_days: int = Field(ge=30, le=5 * 365)
    max_rectify_days: int = Field(ge=1, le=180)
    excluded: list[Literal["accident", "major_hazard", "illegal_production", "bad_social_impact"]]

    @model_validator(mode="after")
    def _all_exclusions(self) -> FirstViolation:
        missing = {"accident", "major_hazard", "illegal_production"} - set(self.excluded)
        if missing:
            raise ValueError(f"the policy may not drop the exclusions {sorted(missing)}")
        return self


def load_catalogue(policy_dir: Path) -> Catalogue:
    """The checklist catalogue."""
    return load_yaml(policy_dir / "checklist_catalogue.yaml", Catalogue)


def load_first_violation(policy_dir: Path) -> FirstViolation:
    """The first-violation policy."""
    return load_yaml(policy_dir / "first_violation.yaml", FirstViolation)


class ReminderPolicy(_Strict):
    """reminders.yaml: days before the due date at which each kind of reminder goes out
    (licence reminders: licence_renewal.yaml, in calendar months)."""

    version: Literal[1]
    run_at: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    rectification_deadline: list[int] = Field(min_length=1)
    penalty_expiry: list[int] = Field(min_length=1)


class RenewalRuleFile(_Strict):
    """One licence type's renewal in licence_renewal.yaml."""

    authority: str = Field(min_length=2)
    # 《安全生产许可证条例》第九条: never later than 3 months before expiry.
    apply_months: int = Field(ge=STATUTORY_APPLY_MONTHS, le=12)
    basis: str = Field(min_length=2)
    procedure: str = Field(min_length=2)
    conditions: str = Field(min_length=2)
    after_expiry: str = Field(min_length=2)
    sources: list[str] = Field(min_length=1)

    def rule(self) -> RenewalRule:
        """The domain rule."""
        return RenewalRule(
            self.authority,
            self.apply_months,
            self.basis,
            self.procedure,
            self.conditions,
            self.after_expiry,
            tuple(self.sources),
        )


class LicenceRenewalFile(_Strict):
    """licence_renewal.yaml: reminder stages in calendar months and each type's renewal."""

    version: Literal[1]
    first_months: int = Field(ge=1, le=24)
    last_months: int = Field(ge=0, le=12)
    types: dict[str, RenewalRuleFile]
    default: RenewalRuleFile

    @model_validator(mode="after")
    def _order(self) -> LicenceRenewalFile:
        rules = [*self.types.values(), self.default]
        latest = max(r.apply_months for r in rules)
        if self.first_months <= latest:
            raise ValueError(
                f"first_months {self.first_months} must be more than every apply_months "
                f"({latest}): the first reminder must come before the deadline to apply"
            )
        if self.last_months >= min(r.apply_months for r in rules):
            raise ValueError("last_months must be after every deadline (less than apply_months)")
        return self

    def schedule(self) -> RenewalSchedule:
        """The domain schedule."""
        return RenewalSchedule(
            self.first_months,
            self.last_months,
            {k: v.rule() for k, v in self.types.items()},
            self.default.rule(),
        )


def load_licence_renewal(policy_dir: Path) -> RenewalSchedule:
    """The licence renewal schedule and rules."""
    return load_yaml(policy_dir / "licence_renewal.yaml", LicenceRenewalFile).schedule()


def load_reminders(policy_dir: Path) -> ReminderPolicy:
    """The reminder schedule."""
    return load_yaml(policy_dir / "reminders.yaml", ReminderPolicy)
