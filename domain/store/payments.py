"""An invoice's payments and payment plan, read in the caller's unit of work."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model.entities import Installment, Payment


async def payments_of(session: AsyncSession, invoice_id: int) -> list[Payment]:
    """Oldest first."""
    rows = await session.execute(
        select(Payment).where(Payment.invoice_id == invoice_id).order_by(Payment.id)
    )
    return list(rows.scalars())


async def installments_of(session: AsyncSession, invoice_id: int) -> list[Installment]:
    """The payment plan, in order (none without a plan)."""
    rows = await session.execute(
        select(Installment)
        .where(Installment.invoice_id == invoice_id)
        .order_by(Installment.position)
    )
    return list(rows.scalars())
