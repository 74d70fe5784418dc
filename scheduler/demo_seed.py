"""Demo seeding for the draw room: officers, experts, item list, a joint plan and one draw."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from psycopg_pool import AsyncConnectionPool

from config.policy import sampling_file
from config.policy_sampling import (
    PlanFile,
    SamplingPolicy,
    load_sampling_policy,
)
from config.settings import Settings
from demo.data import demo_enterprises
from demo.directory import DEMO_PLAN_ID, demo_items, demo_officers, demo_plan_spec
from domain.clock import utcnow
from domain.errors import ConfigurationError
from domain.region import Region
from services import draws as draw_service
from services.draws import CATCH_UP, Period
from storage import directory, draws
from storage.draws import StoredPlan

log = logging.getLogger(__name__)

#: Who the audit columns of the seeded draw name.
ACTOR = "demo-seed"


def _policy(settings: Settings) -> SamplingPolicy:
    return load_sampling_policy(sampling_file(settings.policy_dir))


def current_period(plan: StoredPlan, now: datetime) -> Period:
    """The period the plan's latest scheduled time opened, even one before the plan existed."""
    fire = draw_service.latest_fire_time(replace(plan, created_at=now - CATCH_UP), now)
    if fire is None:
        raise ConfigurationError(f"plan {plan.plan_id} has no scheduled time in the last 35 days")
    return draw_service.period_of(plan, fire)


async def seed_demo(
    pool: AsyncConnectionPool, settings: Settings, region: Region | None = None
) -> None:
    """Upsert the demo officers, experts, items and plan; draw the current period once."""
    codes = [e.credit_code for e in demo_enterprises(region=region)]
    spec = PlanFile.model_validate(
        demo_plan_spec(timezone=settings.timezone, enterprise_codes=codes)
    )
    async with pool.connection() as conn:
        await draw_service.save_plan(conn, spec=spec, policy=_policy(settings))
        plan = await draws.get_plan(conn, plan_id=DEMO_PLAN_ID)
        period = current_period(plan, utcnow())
        officers = demo_officers(as_of=period.start, enterprise_codes=codes)
        await directory.upsert_officers(conn, officers=officers)
        await directory.upsert_items(conn, items=demo_items())
    log.info("demo directory: %d officers and experts, %d items", len(officers), len(demo_items()))
    async with pool.connection() as conn:
        existing = await draws.find_draws(
            conn, plan_id=DEMO_PLAN_ID, start=period.start, end=period.end
        )
        if existing:
            last = existing[-1]
            log.info("demo draw %s %s exists (draw %d)", DEMO_PLAN_ID, period.label, last.id)
            return
        # Demo mode is a test setting: no public value, frozen and drawn at once.
        record = await draw_service.draw_now(
            conn,
            plan_id=DEMO_PLAN_ID,
            period=period,
            public_value="",
            actor=ACTOR,
            policy=draw_service.draw_policy(settings),
        )
    log.info("demo draw %s %s: draw %d, %s", DEMO_PLAN_ID, period.label, record.id, record.status)
