"""The stats summary: invoice counts and totals per customer, currency, month and state.

Every change of an invoice's state moves it from one bucket to another inside the same
transaction (`move`), so the summary is exactly as current as the invoices. `rebuild`
recounts everything: after changing business.timezone, and in the tests.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model.entities import Invoice, InvoiceTotals
from domain.model.enums import InvoiceStatus
from domain.model.money import ZERO
from domain.model.periods import month_key
from domain.store.database import Database
from domain.store.summaries import add_to_each

ALL_CUSTOMERS = 0

Bucket = tuple[int, str, int, InvoiceStatus, bool]


def buckets(
    invoice: Invoice, status: InvoiceStatus | None = None, void: bool | None = None
) -> list[Bucket]:
    month = invoice.created_month
    status = invoice.status if status is None else status
    void = invoice.void if void is None else void
    currency = invoice.currency
    return [
        (invoice.customer_id, currency, month, status, void),
        (ALL_CUSTOMERS, currency, month, status, void),
    ]


BUCKET_KEY = ("customer_id", "currency", "month", "status", "void")


async def _add(session: AsyncSession, moves: list[tuple[Bucket, int, Decimal, Decimal]]) -> None:
    """Each (bucket, count, total, paid) added to its row, in one statement."""
    await add_to_each(
        session,
        InvoiceTotals,
        BUCKET_KEY,
        {
            bucket: {"invoice_count": count, "total": total, "paid": paid}
            for bucket, count, total, paid in moves
        },
    )


async def count_new(session: AsyncSession, invoice: Invoice) -> None:
    await _add(
        session,
        [(bucket, 1, invoice.total, invoice.amount_paid) for bucket in buckets(invoice)],
    )


async def add_paid(session: AsyncSession, invoice: Invoice, amount: Decimal) -> None:
    """A payment of `amount` received for the invoice, in its buckets."""
    await _add(session, [(bucket, 0, ZERO, amount) for bucket in buckets(invoice)])


async def move(
    session: AsyncSession,
    invoice: Invoice,
    *,
    status: InvoiceStatus | None = None,
    void: bool | None = None,
) -> None:
    """Call before changing the invoice's status or void flag to the given values."""
    moves = []
    for old, new in zip(buckets(invoice), buckets(invoice, status, void), strict=True):
        if old != new:
            moves.append((old, -1, -invoice.total, -invoice.amount_paid))
            moves.append((new, 1, invoice.total, invoice.amount_paid))
    await _add(session, moves)


Counted = tuple[int, Decimal, Decimal]  # invoices, their total, what was paid of it


async def recount(db: Database, zone: ZoneInfo) -> dict[Bucket, Counted]:
    """What the summary should hold, counted from the invoices themselves."""
    counts: dict[Bucket, int] = defaultdict(int)
    totals: dict[Bucket, Decimal] = defaultdict(lambda: ZERO)
    paid: dict[Bucket, Decimal] = defaultdict(lambda: ZERO)
    async with db.read() as session:
        rows = await session.stream(
            select(
                Invoice.customer_id,
                Invoice.currency,
                Invoice.created_at,
                Invoice.status,
                Invoice.void,
                Invoice.total,
                Invoice.amount_paid,
            )
        )
        async for customer_id, currency, created_at, status, void, total, amount_paid in rows:
            month = month_key(created_at, zone)
            for bucket in (
                (customer_id, currency, month, status, void),
                (ALL_CUSTOMERS, currency, month, status, void),
            ):
                counts[bucket] += 1
                totals[bucket] += total
                paid[bucket] += amount_paid
    return {bucket: (counts[bucket], totals[bucket], paid[bucket]) for bucket in counts}


async def stored(db: Database) -> dict[Bucket, Counted]:
    async with db.read() as session:
        rows = await session.execute(select(InvoiceTotals).where(InvoiceTotals.invoice_count != 0))
        return {
            (r.customer_id, r.currency, r.month, r.status, r.void): (
                r.invoice_count,
                r.total,
                r.paid,
            )
            for r in rows.scalars()
        }


async def rebuild(db: Database, zone: ZoneInfo) -> int:
    """Recompute every invoice's month in `zone`, then the whole summary."""
    async with db.transaction() as session:
        rows = (
            await session.execute(select(Invoice.id, Invoice.created_at, Invoice.created_month))
        ).all()
        for invoice_id, created_at, month in rows:
            if month != month_key(created_at, zone):
                await session.execute(
                    update(Invoice)
                    .where(Invoice.id == invoice_id)
                    .values(created_month=month_key(created_at, zone))
                )
    counted = await recount(db, zone)
    async with db.transaction() as session:
        await session.execute(delete(InvoiceTotals))
        session.add_all(
            InvoiceTotals(
                customer_id=c,
                currency=cur,
                month=m,
                status=s,
                void=v,
                invoice_count=count,
                total=total,
                paid=paid,
            )
            for (c, cur, m, s, v), (count, total, paid) in counted.items()
        )
    return len(counted)
