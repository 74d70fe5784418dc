"""Uplink event bodies (and stored event payloads) as events in event-time order."""

from __future__ import annotations

from typing import Any

from domain import replay as rp
from domain.monitoring import OpId
from monitor.schemas import (
    EVENT_ADAPTER,
    STATUS_EVENTS,
    EventBase,
    GasTestEvent,
    ResumeRequestEvent,
    SpecialOpEndEvent,
    SpecialOpPauseEvent,
    SpecialOpResumeEvent,
    SpecialOpStartEvent,
)
from services.event_order import Logged


def to_logged(body: EventBase) -> Logged:
    """The domain event with its order key (and the restart-request row a request needs)."""
    event: rp.StateEvent
    if isinstance(body, STATUS_EVENTS):
        event = body.to_domain()
    elif isinstance(body, SpecialOpStartEvent):
        event = rp.OpStartEvent(body.to_domain())
    elif isinstance(body, GasTestEvent):
        event = rp.OpGasTest(body.event_id, body.ts, OpId(body.op_id), body.reading(body.ts))
    elif isinstance(body, SpecialOpPauseEvent):
        event = rp.OpPause(body.event_id, body.ts, OpId(body.op_id))
    elif isinstance(body, SpecialOpResumeEvent):
        event = rp.OpResume(body.event_id, body.ts, OpId(body.op_id))
    else:
        assert isinstance(body, SpecialOpEndEvent), body.type
        event = rp.OpEnd(body.event_id, body.ts, OpId(body.op_id))
    row = request_row(body) if isinstance(body, ResumeRequestEvent) else None
    return Logged(rp.Ordered(event, body.seq), row)


def request_row(req: ResumeRequestEvent) -> dict[str, Any]:
    """The stored form of a restart request (without the enterprise)."""
    return {
        "event_id": req.event_id,
        "ts": req.ts,
        "planned_at": req.planned_at,
        "self_check": [i.model_dump() for i in req.self_check],
        "failed": sum(1 for i in req.self_check if not i.ok),
    }


def parse_logged(payload: str) -> Logged:
    """A stored event payload (validated when it was received) as an ordered event."""
    body = EVENT_ADAPTER.validate_json(payload)
    return to_logged(body)
