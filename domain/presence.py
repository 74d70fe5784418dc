"""Presence: derived from the retained presence message, the last will and real activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.alarms import Rule
from domain.i18n import msg
from domain.monitoring import EnterpriseId, RuleOutcome, clear_one, raise_one


@dataclass(frozen=True, slots=True)
class Presence:
    """What is known about a site's connection. Never edited by hand; derived from messages."""

    reported_online: bool
    reported_at: datetime | None
    last_activity_at: datetime | None
    #: The site said it stops on purpose (`{"online": false, "planned": true}`) and was not
    #: heard since: offline, but no alarm (docs/protocol.md, "Planned stop").
    planned_stop: bool = False

    def silent_for(self, now: datetime) -> timedelta | None:
        """Time since the last real activity (None if there never was any)."""
        return None if self.last_activity_at is None else now - self.last_activity_at

    def is_online(self, now: datetime, timeout: timedelta) -> bool:
        """Online when the site says so and was active within the timeout."""
        silent = self.silent_for(now)
        return self.reported_online and silent is not None and silent <= timeout


def counts_as_activity(*, online: bool | None, retained: bool, has_ts: bool) -> bool:
    """Whether a message proves the site is alive now.

    A last will (`online: false`) is the broker speaking for a dead client, and a retained message
    without its own timestamp may be arbitrarily old, so neither counts.
    """
    if online is False:
        return False
    return not (retained and not has_ts)


def offline_outcome(
    ent: EnterpriseId, presence: Presence, now: datetime, timeout: timedelta
) -> RuleOutcome:
    """Raise `offline` after `timeout` of silence; clear it once the site is active again."""
    silent = presence.silent_for(now)
    planned = presence.planned_stop and not presence.reported_online
    if planned or (silent is not None and silent <= timeout):
        return clear_one(ent, Rule.OFFLINE, "presence", at=now)
    last = presence.last_activity_at
    return raise_one(
        ent,
        Rule.OFFLINE,
        "presence",
        msg("alarm.offline.silent", seconds=int(silent.total_seconds()))
        if silent is not None
        else msg("alarm.offline.never"),
        at=now,
        last_activity=last.isoformat() if last else None,
        reported_online=presence.reported_online,
        timeout_s=int(timeout.total_seconds()),
    )
