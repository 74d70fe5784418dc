"""services.status: the duty room's read of one enterprise and the dashboard counts, straight
from storage (the status route only shapes it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from psycopg_pool import AsyncConnectionPool

from config.policy import load_policies
from config.settings import Settings
from domain.clock import utcnow
from domain.errors import NotFound
from domain.i18n import msg
from domain.monitoring import EnterpriseId, Severity, raise_one
from domain.status import EnterpriseStatus, Mode
from services import alarms as alarm_service
from services import status
from storage import enterprise_status
from tests.integration.monitor_support import seed


async def test_an_unknown_enterprise_is_not_found(pool: AsyncConnectionPool) -> None:
    async with pool.connection() as conn:
        with pytest.raises(NotFound, match="不在监管企业名录中"):
            await status.enterprise_now(conn, ent="913301020000000019")


async def test_the_current_state_of_one_enterprise(
    pool: AsyncConnectionPool, settings: Settings
) -> None:
    ent, other = await seed(pool, 2)
    async with pool.connection() as conn:
        quiet = await status.enterprise_now(conn, ent=ent)
    assert quiet.status == EnterpriseStatus(EnterpriseId(ent))
    assert (quiet.presence, quiet.open_ops, quiet.open_alarms) == (None, [], 0)
    assert quiet.worst_open_severity is None
    assert quiet.name

    now = utcnow()
    policy = load_policies(settings.policy_dir).monitoring
    rule = next(iter(policy.rules))
    async with pool.connection() as conn:
        await enterprise_status.touch_activity(conn, activity={ent: now})
        await enterprise_status.save_statuses(
            conn, statuses=[EnterpriseStatus(EnterpriseId(ent), mode=Mode.SHUTDOWN, mode_since=now)]
        )
        await alarm_service.apply_outcome(
            conn,
            raise_one(EnterpriseId(ent), rule, "s1", msg("alarm.maintenance_unknown", maint_id="")),
            rules=policy.rules,
            now=now,
        )
    async with pool.connection() as conn:
        busy = await status.enterprise_now(conn, ent=ent)
        untouched = await status.enterprise_now(conn, ent=other)
        counts = await status.summary(conn, online_since=now - timedelta(minutes=5))
    assert busy.status.mode is Mode.SHUTDOWN
    assert busy.presence is not None
    assert busy.presence.last_activity_at == now
    assert busy.open_alarms == 1
    assert busy.worst_open_severity is Severity(policy.rules[rule].severity)
    assert (untouched.open_alarms, untouched.presence) == (0, None)
    assert counts.counts["shutdown"] == 1
    assert sum(counts.alarms_open.values()) == 1
