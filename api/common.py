"""Shared pieces of the HTTP edge: pagination, the client's address."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel, Field

T = TypeVar("T")

MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, the total matching count, and where the page starts."""

    items: list[T]
    total: int = Field(ge=0, description="how many items match the filters in all")
    limit: int = Field(ge=1)
    offset: int = Field(ge=0)


@dataclass(frozen=True, slots=True)
class Paging:
    """`limit` and `offset` query parameters."""

    limit: int
    offset: int


async def paging(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="items to skip")] = 0,
) -> Paging:
    """The pagination query parameters of a list endpoint (async: no thread-pool hop)."""
    return Paging(limit=limit, offset=offset)


PagingDep = Annotated[Paging, Depends(paging)]


def client_ip(request: Request) -> str:
    """The client's address as uvicorn saw it (proxy headers applied by uvicorn)."""
    return request.client.host if request.client else ""


#: A numeric id in a path (bigint-safe).
IdPath = Annotated[int, Path(ge=1, le=2**62, description="numeric id")]
