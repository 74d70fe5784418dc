"""/public/v1/region: the bureau and the counties, zones and sectors it supervises."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from api.deps import PoliciesDep

router = APIRouter(prefix="/public/v1", tags=["public"])


class CountyOut(BaseModel):
    """A county, county-level city or development zone."""

    name: str
    kind: str
    division: str


class SectorOut(BaseModel):
    """A sector of the directory with its Chinese name."""

    code: str
    name: str


class RegionOut(BaseModel):
    """The bureau (config/region.yaml)."""

    bureau: str
    bureau_short: str
    prefecture: str
    counties: list[CountyOut]
    sectors: list[SectorOut]


@router.get("/region", response_model=RegionOut)
async def region(policies: PoliciesDep, response: Response) -> RegionOut:
    """Who runs this deployment and what it supervises (from the bureau's region file)."""
    r = policies.region
    response.headers["Cache-Control"] = "public, max-age=300"
    return RegionOut(
        bureau=r.bureau,
        bureau_short=r.bureau_short,
        prefecture=r.prefecture,
        counties=[CountyOut(name=c.name, kind=c.kind, division=c.division) for c in r.counties],
        sectors=[SectorOut(code=s.code, name=s.name) for s in r.sectors],
    )
