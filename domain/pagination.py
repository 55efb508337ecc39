"""Pages of results: one COUNT and one SELECT ... LIMIT/OFFSET."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import InvalidInput

T = TypeVar("T")

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    per_page: int = 25

    def __post_init__(self) -> None:
        if self.page < 1:
            raise InvalidInput("page", "Page must be 1 or more.")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise InvalidInput("per_page", f"Per page must be between 1 and {MAX_PER_PAGE}.")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total_count: int
    page: int
    per_page: int

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total_count / self.per_page)


async def fetch_page(session: AsyncSession, query: Select[Any], request: PageRequest) -> Page[Any]:
    """`query` must already be ordered (with a unique tie-break) for pages to be stable."""
    count_query = select(func.count()).select_from(query.order_by(None).subquery())
    total = (await session.execute(count_query)).scalar_one()
    rows: Sequence[Any] = []
    if request.offset < total:
        result = await session.execute(query.limit(request.per_page).offset(request.offset))
        rows = result.scalars().all()
    return Page(items=rows, total_count=total, page=request.page, per_page=request.per_page)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with LIKE's own wildcards taken literally."""
    return f"%{_escaped(text)}%"


def prefix_pattern(text: str) -> str:
    """A LIKE pattern matching values that start with `text` (an index can serve it)."""
    return f"{_escaped(text)}%"
