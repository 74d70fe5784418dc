"""Rules for messages sent down to a site (guidance, notices)."""

from __future__ import annotations

from datetime import timedelta

from config.policy_monitoring import MonitoringPolicy


def ttl(policy: MonitoringPolicy, channel: str) -> timedelta:
    """How long a downlink is retried before it expires."""
    return policy.guidance_ttl if channel == "guidance" else policy.notice_ttl
