"""Guidance to a site over HTTP: send (published on …/guidance with QoS 1, retried until
acknowledged) and list with delivery state."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from api.common import Page, PagingDep, client_ip
from api.deps import ConnDep
from api.errors import ERROR_RESPONSES
from api.routes.monitoring_common import (
    DownlinkOut,
    Handler,
    PolicyDep,
    VisibleEnt,
    downlink_out,
    require_enterprise,
)
from domain.downlinks import ttl
from services import guidance
from services.changes import Actor
from storage import downlinks

router = APIRouter(prefix="/api/v1", tags=["monitoring"], responses=ERROR_RESPONSES)


class GuidanceIn(BaseModel):
    """Guidance to send to a site (published on …/guidance, retried until acknowledged)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"text": "请立即停止罐区动火作业。", "requires_ack": True}]
        },
    )

    text: str = Field(min_length=1, max_length=2000)
    requires_ack: bool = True
    ttl_hours: int | None = Field(default=None, ge=1, le=168)


@router.post(
    "/enterprises/{ent}/guidance",
    response_model=DownlinkOut,
    status_code=status.HTTP_201_CREATED,
)
async def send_guidance(
    ent: VisibleEnt,
    body: GuidanceIn,
    principal: Handler,
    conn: ConnDep,
    policy: PolicyDep,
    request: Request,
) -> DownlinkOut:
    """Queue guidance; the monitor publishes it with QoS 1 and retries until acknowledged."""
    await require_enterprise(conn, ent)
    d = await guidance.send(
        conn,
        ent=ent,
        text=body.text,
        requires_ack=body.requires_ack,
        life=timedelta(hours=body.ttl_hours) if body.ttl_hours else ttl(policy, "guidance"),
        actor=Actor(principal, client_ip(request)),
    )
    return downlink_out(d)


@router.get("/enterprises/{ent}/guidance", response_model=Page[DownlinkOut])
async def list_guidance(
    ent: VisibleEnt,
    conn: ConnDep,
    paging: PagingDep,
    channel: Literal["guidance", "notice"] | None = None,
) -> Page[DownlinkOut]:
    """Guidance and notices sent to the site with their delivery state, newest first."""
    await require_enterprise(conn, ent)
    items, total = await downlinks.list_downlinks(
        conn, ent=ent, channel=channel, limit=paging.limit, offset=paging.offset
    )
    return Page[DownlinkOut](
        items=[downlink_out(d) for d in items],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )
