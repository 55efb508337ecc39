"""Pages of results (one COUNT and one SELECT ... LIMIT/OFFSET), and LIKE patterns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model.paging import Page, PageRequest


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
