"""Every policy file a bureau edits, loaded and validated together when a process starts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from config.policy_documents import DocumentSettings, load_documents
from config.policy_enforcement import (
    Catalogue,
    FirstViolation,
    ReminderPolicy,
    load_catalogue,
    load_first_violation,
    load_licence_renewal,
    load_reminders,
)
from config.policy_hazards import HazardCriteria, load_hazard_criteria
from config.policy_monitoring import MonitoringPolicy, load_monitoring_policy
from config.policy_region import load_region
from config.policy_sampling import DEFAULT_POLICY_PATH, SamplingPolicy, load_sampling_policy
from domain.licences import RenewalSchedule
from domain.region import Region

log = logging.getLogger(__name__)

#: The files in the policy directory, each read by one loader below.
POLICY_FILES = (
    "sampling_strata.yaml",
    "alarm_rules.yaml",
    "special_operations.yaml",
    "holidays.yaml",
    "monitoring.yaml",
    "checklist_catalogue.yaml",
    "first_violation.yaml",
    "reminders.yaml",
    "licence_renewal.yaml",
    "region.yaml",
    "hazard_criteria.yaml",
    "documents.yaml",
)


@dataclass(frozen=True, slots=True)
class Policies:
    """All policies, validated: built once by the composition root (safewatch.py) and passed to
    the app (app.state.policies), the scheduler's jobs (JobContext) and the MQTT processor."""

    sampling: SamplingPolicy
    monitoring: MonitoringPolicy
    catalogue: Catalogue
    first_violation: FirstViolation
    reminders: ReminderPolicy
    region: Region
    hazards: HazardCriteria
    licences: RenewalSchedule
    documents: DocumentSettings


def sampling_file(policy_dir: Path) -> Path:
    """policy_dir/sampling_strata.yaml, else the default shipped with the package."""
    path = policy_dir / "sampling_strata.yaml"
    return path if path.exists() else DEFAULT_POLICY_PATH


def load_policies(policy_dir: Path) -> Policies:
    """Load and validate every policy file; ConfigurationError names the first bad one."""
    policies = Policies(
        sampling=load_sampling_policy(sampling_file(policy_dir)),
        monitoring=load_monitoring_policy(policy_dir),
        catalogue=load_catalogue(policy_dir),
        first_violation=load_first_violation(policy_dir),
        reminders=load_reminders(policy_dir),
        region=load_region(policy_dir),
        hazards=load_hazard_criteria(policy_dir),
        licences=load_licence_renewal(policy_dir),
        documents=load_documents(policy_dir),
    )
    log.info("policy files in %s validated", policy_dir)
    return policies
