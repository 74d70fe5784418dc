"""Inspection plans as staff edit and run them: save a plan, freeze or draw a period, run a
witnessed draw. The draw itself is services/draws.py (also run by the scheduler)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg import AsyncConnection

from config.policy_sampling import PlanFile, SamplingPolicy
from domain.draw.public_value import PublicSource
from domain.errors import Conflict, NotFound
from domain.i18n import msg
from services import draws as draw_service
from services.changes import Actor, Audit, record
from services.draws import DrawPolicy, Period, Repeat
from storage import draws
from storage.draws import DrawRecord, StoredPlan


def _by(actor: Actor) -> str:
    assert actor.principal is not None, "plans are edited and drawn by a person"
    return actor.principal.username


async def save_plan(
    conn: AsyncConnection[Any], *, spec: PlanFile, policy: SamplingPolicy, actor: Actor
) -> StoredPlan:
    """Create or replace a plan (ValidationFailed naming every rule it breaks)."""
    _by(actor)
    try:
        before = (await draws.get_plan(conn, plan_id=spec.plan_id)).spec
    except NotFound:
        before = None
    await draw_service.save_plan(conn, spec=spec, policy=policy)
    stored = await draws.get_plan(conn, plan_id=spec.plan_id)
    action = "plan.update" if before else "plan.create"
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(action, f"plan:{spec.plan_id}", before=before, after=stored.spec),
        changes=[("plan", None, {"plan_id": spec.plan_id, "action": action})],
    )
    return stored


async def _record_draw(
    conn: AsyncConnection[Any], actor: Actor, action: str, drawn: DrawRecord, after: dict[str, Any]
) -> None:
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(action, f"draw:{drawn.id}", after=after),
        changes=[("plan", None, {"plan_id": drawn.plan_id, "draw_id": drawn.id, "action": action})],
    )


async def draw_plan(
    conn: AsyncConnection[Any],
    *,
    plan_id: str,
    period: Period,
    public_value: str,
    freeze_only: bool,
    policy: DrawPolicy,
    source: PublicSource | None,
    witnesses: list[list[str]],
    repeat: Repeat | None,
    audit_after: Callable[[DrawRecord], dict[str, Any]],
    actor: Actor,
) -> DrawRecord:
    """Freeze the window (publishing the commitment) or draw one frozen earlier (see
    services.draws.draw_now); a window is drawn once unless a supervisor's `repeat` says why.
    `audit_after(record)` is what the audit keeps of the result (plus the repeat note)."""
    by = _by(actor)
    if freeze_only:
        drawn = await draw_service.freeze_period(
            conn,
            plan_id=plan_id,
            period=period,
            actor=by,
            policy=policy,
            source=source,
            witnesses=witnesses,
            repeat=repeat,
        )
    else:
        drawn = await draw_service.draw_now(
            conn,
            plan_id=plan_id,
            period=period,
            public_value=public_value,
            actor=by,
            policy=policy,
            source=source,
            repeat=repeat,
        )
    action = "draw.freeze" if drawn.state == "frozen" else "draw.run"
    after = {**audit_after(drawn), "repeat_note": repeat.note if repeat else None}
    await _record_draw(conn, actor, action, drawn, after)
    return drawn


async def witnessed_draw(
    conn: AsyncConnection[Any],
    *,
    draw_id: int,
    public_value: str,
    audit_after: Callable[[DrawRecord], dict[str, Any]],
    actor: Actor,
    witness_secrets: list[bytes] | None = None,
) -> DrawRecord:
    """Draw a frozen record with the public value read out at a witnessed session (and the
    witnesses' revealed secrets)."""
    by = _by(actor)
    frozen = await draws.get_draw(conn, draw_id=draw_id)
    if frozen.state != "frozen":
        raise Conflict(msg("draw.already_drawn", draw_id=draw_id))
    drawn = await draw_service.perform_draw(
        conn, draw_id=draw_id, public_value=public_value, actor=by, witness_secrets=witness_secrets
    )
    await _record_draw(conn, actor, "draw.run", drawn, audit_after(drawn))
    return drawn
