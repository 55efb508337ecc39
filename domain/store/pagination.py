"""Pages of results (one COUNT and one SELECT ... LIMIT/OFFSET), and LIKE patterns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model.paging import Page, PageRequest
from domain.store.cursors import Keyset


async def fetch_page(
    session: AsyncSession, query: Select[Any], request: PageRequest, keyset: Keyset
) -> Page[Any]:
    """`query` must be ordered as `keyset` says (column, then id): pages by number or, with
    `request.after`, from a cursor; one row more than the page tells whether one follows."""
    count_query = select(func.count()).select_from(query.order_by(None).subquery())
    total = (await session.execute(count_query)).scalar_one()
    if request.after is not None:
        query = query.where(keyset.after(request.after))
    rows: Sequence[Any] = []
    if request.after is not None or request.offset < total:
        result = await session.execute(query.limit(request.per_page + 1).offset(request.offset))
        rows = result.scalars().all()
    items = rows[: request.per_page]
    return Page(
        items=items,
        total_count=total,
        page=request.page,
        per_page=request.per_page,
        end_cursor=keyset.cursor(items[-1]) if items else None,
        more=len(rows) > request.per_page,
    )


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with LIKE's own wildcards taken literally."""
    return f"%{_escaped(text)}%"


def prefix_pattern(text: str) -> str:
    """A LIKE pattern matching values that start with `text` (an index can serve it)."""
    return f"{_escaped(text)}%"
