"""Supervisors' enforcement statistics: JSON for the page's charts, CSV and XLSX for export
(domain/tabular_export.py: formula-safe cells)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import ConnDep, SettingsDep, require_roles
from api.errors import ERROR_RESPONSES
from api.routes.inspections import FindingOut, finding_out
from domain.errors import ValidationFailed
from domain.i18n import msg
from domain.tabular_export import csv_bytes, xlsx_bytes
from domain.users import Principal, Role
from storage import enforcement_stats as stats
from storage import findings

router = APIRouter(tags=["statistics"], responses=ERROR_RESPONSES)
Overseer = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR))]

#: Column headers of the export (zh-CN), in the order of storage.enforcement_stats.CountyMonth.
HEADERS = {
    "county": "区县",
    "month": "月份",
    "planned": "计划检查",
    "done": "已完成检查",
    "findings": "检查发现",
    "major_hazards": "重大事故隐患",
    "no_penalty": "不予处罚",
    "first_violation": "首违不罚",
    "lenient": "从轻/减轻",
    "cases": "立案",
    "overrides": "未采纳建议",
    "lapsed": "及时改正未确认（失效）",
    "orders": "整改指令",
    "on_time": "按期整改完成",
    "overdue": "逾期",
}


class Statistics(BaseModel):
    """Statistics by county and month, and findings by item and grade."""

    start: date
    end: date
    by_county_month: list[dict[str, Any]]
    by_item: list[dict[str, Any]]


@router.get(
    "/api/v1/enforcement/statistics",
    response_model=Statistics,
    responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument"
                                ".spreadsheetml.sheet": {}}}},
)  # fmt: skip
async def statistics(
    _: Overseer,
    conn: ConnDep,
    settings: SettingsDep,
    start: Annotated[date, Query(description="first day of the inspections counted")],
    end: Annotated[date, Query(description="last day")],
    county: Annotated[str | None, Query(max_length=50)] = None,
    format: Literal["json", "csv", "xlsx"] = "json",
) -> Any:
    """Inspections done vs planned, findings by item and grade, 不予/首违/从轻/立案 counts,
    overrides and rectification on time, by county and month."""
    if end < start or (end - start).days > 3 * 366:
        raise ValidationFailed(msg("statistics.period"), details={"end": end.isoformat()})
    rows = await stats.by_county_month(
        conn, start=start, end=end, county=county, tz=settings.tz.key
    )
    if format == "json":
        items = await stats.by_item(conn, start=start, end=end, county=county)
        return Statistics(
            start=start,
            end=end,
            by_county_month=[asdict(r) for r in rows],
            by_item=[asdict(i) for i in items],
        )
    header = list(HEADERS.values())
    table = [[getattr(r, k) for k in HEADERS] for r in rows]
    name = f"enforcement-{start.isoformat()}-{end.isoformat()}.{format}"
    if format == "csv":
        data, media = csv_bytes(header, table), "text/csv; charset=utf-8"
    else:
        data = await asyncio.to_thread(xlsx_bytes, header, table, title="执法统计")
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/api/v1/enforcement/overrides", response_model=list[FindingOut])
async def overrides(
    _: Overseer,
    conn: ConnDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[FindingOut]:
    """Findings decided against the advisor's recommendation, with the officer's reason."""
    return [finding_out(r) for r in await findings.overrides(conn, limit=limit, offset=offset)]
