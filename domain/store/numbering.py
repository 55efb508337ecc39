"""Invoice numbers without gaps: each series keeps the last number it gave, and an invoice
takes the next under that row's lock, in the transaction that issues it, so a refused or
rolled-back generate gives none back to nobody and concurrent ones queue for it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model.entities import NumberSeries
from domain.store.summaries import add_to


async def take_next(session: AsyncSession, series: str) -> int:
    """The next number of `series` (1 for a new one), held until the transaction ends."""
    await add_to(session, NumberSeries, {"series": series}, {"last": 1})
    taken = await session.execute(select(NumberSeries.last).where(NumberSeries.series == series))
    return int(taken.scalar_one())
