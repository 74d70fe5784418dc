"""Restart verification (复产复验): approve or reject a site's restart request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from config.policy_monitoring import MonitoringPolicy
from domain import status as st
from domain.clock import utcnow
from domain.downlinks import ttl
from domain.errors import NotFound, RuleViolation, ValidationFailed
from domain.i18n import msg
from domain.monitoring import EnterpriseId
from services.changes import Actor, Audit, record
from services.downlinks import live_payload
from storage import downlinks, enterprise_status, restart_evidence, restart_requests, video
from storage.downlinks import Downlink
from storage.restart_evidence import Evidence
from storage.restart_requests import RestartRequest


@dataclass(frozen=True, slots=True)
class Decision:
    """The decided request, the notice queued for the site and the evidence kept."""

    request: RestartRequest
    notice: Downlink
    evidence: list[Evidence]


async def _check_evidence(conn: AsyncConnection[Any], ent: str, session_ids: list[str]) -> None:
    """Each session must be this site's and ended, so its recording is final."""
    for session_id in session_ids:
        session = await video.get(conn, session_id=session_id)
        if session is None or session.enterprise_id != ent:
            raise ValidationFailed(
                msg("restart.video_other_enterprise", session_id=session_id),
                details={"video_session_id": session_id},
            )
        if session.state != "ended":
            raise RuleViolation(
                msg("restart.video_still_open", session_id=session_id, state=session.state)
            )


async def decide(
    conn: AsyncConnection[Any],
    *,
    request_id: int,
    approve: bool,
    reason: str,
    video_session_ids: list[str],
    actor: Actor,
    policy: MonitoringPolicy,
    now: datetime | None = None,
) -> Decision:
    """Decide a pending request: status, notice to the site, evidence, audit and live changes."""
    assert actor.principal is not None, "a restart is decided by a person"
    by = actor.principal.username
    reason = reason.strip()
    sessions = list(dict.fromkeys(video_session_ids))
    req = await restart_requests.get_request(conn, request_id=request_id)
    if req is None:
        raise NotFound(msg("restart.not_found", request_id=request_id))
    if req.state != "pending":
        raise RuleViolation(msg("restart.already_decided", request_id=request_id, state=req.state))
    if not approve and len(reason) < 2:
        raise RuleViolation(msg("restart.reason_required"))
    await _check_evidence(conn, req.enterprise_id, sessions)
    now = now or utcnow()
    ent = EnterpriseId(req.enterprise_id)
    status = (await enterprise_status.lock_statuses(conn, ents=[ent]))[ent]
    decided = (st.approve_restart if approve else st.reject_restart)(status, req.event_id, now)
    await enterprise_status.save_statuses(conn, statuses=[decided])
    decision = "approved" if approve else "rejected"
    text = (
        f"复产申请 {req.event_id} 已通过复验，可按计划复产。"
        if approve
        else f"复产申请 {req.event_id} 未通过复验：{reason}"
    )
    notice = await downlinks.create(
        conn,
        channel="notice",
        ent=ent,
        kind="restart_decision",
        text=text,
        extra={
            "request_ref": req.event_id,
            "decision": decision,
            "reason": reason,
            "video_sessions": sessions,
        },
        sender=by,
        requires_ack=True,
        expires_at=now + ttl(policy, "notice"),
        now=now,
    )
    await restart_requests.decide_request(
        conn,
        request_id=request_id,
        state=decision,
        by=by,
        at=now,
        reason=reason,
        notice_id=notice.id,
    )
    for session_id in sessions:
        await restart_evidence.attach(conn, request_id=request_id, session_id=session_id, by=by)
    evidence = await restart_evidence.for_request(conn, request_id=request_id)
    await record(
        conn,
        actor=actor,
        audit_entry=Audit(
            action=f"restart.{'approve' if approve else 'reject'}",
            target=f"restart_request:{request_id}",
            before={"state": "pending", "mode": status.mode.value},
            after={
                "state": decision,
                "mode": decided.mode.value,
                "reason": reason,
                "evidence": [
                    {"video_session_id": e.video_session_id, "recording_sha256": e.recording_sha256}
                    for e in evidence
                ],
            },
        ),
        changes=[
            ("guidance", ent, live_payload(notice, "created")),
            (
                "restart_request",
                ent,
                {"id": request_id, "event_id": req.event_id, "state": decision},
            ),
            ("status", ent, {"headline": decided.headline, "mode": decided.mode.value}),
        ],
    )
    fresh = await restart_requests.get_request(conn, request_id=request_id)
    assert fresh is not None
    return Decision(request=fresh, notice=notice, evidence=evidence)
