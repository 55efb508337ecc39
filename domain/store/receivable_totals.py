"""The receivables summary: what the open invoices still ask, per customer (0 = all),
currency and the day it falls due. Every change of an invoice that moves what it asks or when (a new
invoice, a payment, a void, a plan made or cancelled) follows it in the same transaction
(`follow`), so the overdue card, count, aging and balances are as current as the invoices;
`recount` is what `invoicing db check` compares it with. Beside it, the same added up over
every day per customer and currency (receivable_balances), moved by the same `follow`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model.dunning import is_collectable
from domain.model.entities import Invoice, ReceivableBalance, ReceivableTotals
from domain.model.money import ZERO
from domain.store.database import Database
from domain.store.dunning import collectable
from domain.store.invoice_totals import ALL_CUSTOMERS
from domain.store.summaries import add_to_each

# What an invoice puts in the summary: its customer, currency, the day and what it asks
# (None: nothing).
Share = tuple[int, str, date, Decimal] | None
Key = tuple[int, str, date]
Counted = tuple[int, Decimal]
DAY_KEY = ("customer_id", "currency", "falls_due")
BALANCE_KEY = ("customer_id", "currency")


def share(invoice: Invoice) -> Share:
    """Take before changing an invoice, and give to `follow` after."""
    if not is_collectable(invoice):
        return None
    due = invoice.total - invoice.amount_paid
    return invoice.customer_id, invoice.currency, invoice.next_due_date, due


async def follow(session: AsyncSession, before: Share, invoice: Invoice) -> None:
    """Move the invoice's share of the summary from what it was (`before`) to what it is:
    its days, then its balance, each table in one statement."""
    after = share(invoice)
    if before == after:
        return
    days: dict[Key, Counted] = {}
    balances: dict[tuple[int, str], Counted] = {}
    for taken, sign in ((before, -1), (after, 1)):
        if taken is None:
            continue
        customer_id, currency, falls_due, due = taken
        for owner in (customer_id, ALL_CUSTOMERS):
            _move(days, (owner, currency, falls_due), sign, sign * due)
            _move(balances, (owner, currency), sign, sign * due)
    await add_to_each(session, ReceivableTotals, DAY_KEY, _amounts(days))
    await add_to_each(session, ReceivableBalance, BALANCE_KEY, _amounts(balances))


def _move(moves: dict[Any, Counted], key: Any, count: int, due: Decimal) -> None:
    held_count, held_due = moves.get(key, (0, ZERO))
    moves[key] = (held_count + count, held_due + due)


def _amounts(moves: dict[Any, Counted]) -> dict[Any, dict[str, Any]]:
    """The rows a change moves (a payment of nothing, or a plan that moves an invoice to
    another day without changing what it asks, moves its balance by nothing)."""
    return {
        key: {"invoice_count": count, "due": due}
        for key, (count, due) in moves.items()
        if count != 0 or due != ZERO
    }


async def recount(db: Database) -> dict[Key, Counted]:
    """What the summary should hold, counted from the invoices."""
    counted: dict[Key, Counted] = {}
    async with db.read() as session:
        rows = await session.stream(
            select(
                Invoice.customer_id,
                Invoice.currency,
                Invoice.next_due_date,
                Invoice.total,
                Invoice.amount_paid,
            ).where(*collectable())
        )
        async for customer_id, currency, falls_due, total, paid in rows:
            for key in ((customer_id, currency, falls_due), (ALL_CUSTOMERS, currency, falls_due)):
                _move(counted, key, 1, total - paid)
    return counted


async def stored(db: Database) -> dict[Key, Counted]:
    async with db.read() as session:
        rows = await session.execute(
            select(ReceivableTotals).where(ReceivableTotals.invoice_count != 0)
        )
        return {
            (r.customer_id, r.currency, r.falls_due): (r.invoice_count, r.due)
            for r in rows.scalars()
        }


def by_customer(days: dict[Key, Counted]) -> dict[tuple[int, str], Counted]:
    """The balances the days add up to."""
    balances: dict[tuple[int, str], Counted] = {}
    for (customer_id, currency, _), (count, due) in days.items():
        _move(balances, (customer_id, currency), count, due)
    return {key: counted for key, counted in balances.items() if counted[0] != 0}


async def stored_balances(db: Database) -> dict[tuple[int, str], Counted]:
    async with db.read() as session:
        rows = await session.execute(
            select(ReceivableBalance).where(ReceivableBalance.invoice_count != 0)
        )
        return {(r.customer_id, r.currency): (r.invoice_count, r.due) for r in rows.scalars()}


async def rebuild(db: Database) -> int:
    """Recount the whole summary, and the balances, from the invoices."""
    counted = await recount(db)
    async with db.transaction() as session:
        await session.execute(delete(ReceivableTotals))
        await session.execute(delete(ReceivableBalance))
        session.add_all(
            ReceivableTotals(customer_id=c, currency=cur, falls_due=d, invoice_count=n, due=due)
            for (c, cur, d), (n, due) in counted.items()
        )
        session.add_all(
            ReceivableBalance(customer_id=c, currency=cur, invoice_count=n, due=due)
            for (c, cur), (n, due) in by_customer(counted).items()
        )
    return len(counted)
