"""Unbilled charges: what a preview shows, generate bills and a billing run looks for."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select

from domain.model.entities import Transaction
from domain.model.enums import TransactionKind
from domain.model.periods import Period, day_range
from domain.store.database import Database


def unbilled_charges_query(
    customer_id: int, zone: ZoneInfo, start: date | None, end: date | None
) -> Select[Transaction]:
    """The customer's unbilled charges created in [start, end] (whole days), oldest first."""
    query = select(Transaction).where(
        Transaction.customer_id == customer_id,
        Transaction.invoice_id.is_(None),
        Transaction.kind == TransactionKind.CHARGE,
    )
    lower, upper = day_range(start, end, zone)
    if lower is not None:
        query = query.where(Transaction.created_at >= lower)
    if upper is not None:
        query = query.where(Transaction.created_at < upper)
    return query.order_by(Transaction.created_at, Transaction.id)


async def customers_with_unbilled_charges(
    db: Database, zone: ZoneInfo, period: Period
) -> list[int]:
    lower, upper = day_range(period.start, period.end, zone)
    query = (
        select(Transaction.customer_id)
        .distinct()
        .where(
            Transaction.invoice_id.is_(None),
            Transaction.kind == TransactionKind.CHARGE,
            Transaction.created_at >= lower,
            Transaction.created_at < upper,
        )
        .order_by(Transaction.customer_id)
    )
    async with db.read() as session:
        return list((await session.execute(query)).scalars())
