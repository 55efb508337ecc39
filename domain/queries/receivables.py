"""What customers owe: the overdue card and count, the receivables aging (amounts still due
by days past due) and each customer's balance (outstanding, and overdue of it). All read
the receivables summary (store/receivable_totals.py): a row per customer and day, never
the invoices; `overdue_condition` is the same rule on the invoices, for the list's page.

Credit notes are left out (a credit is the customer's, not a receivable), and an invoice
with a payment plan counts by the first installment it has not paid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, and_, case, func, select, type_coerce

from domain.config import Settings
from domain.model.access import Viewer
from domain.model.entities import Invoice, ReceivableTotals
from domain.model.money import ZERO
from domain.model.periods import local_day
from domain.store.database import Database
from domain.store.dunning import collectable
from domain.store.invoice_totals import ALL_CUSTOMERS


@dataclass(frozen=True)
class Aging:
    current: Decimal
    days_1_to_30: Decimal
    days_31_to_60: Decimal
    days_61_to_90: Decimal
    over_90: Decimal


@dataclass(frozen=True)
class Balance:
    outstanding: Decimal
    overdue: Decimal


NOTHING = Balance(ZERO, ZERO)

_DUE = type_coerce(ReceivableTotals.due, BigInteger)  # hundredths


def overdue_condition(today: date) -> ColumnElement[bool]:
    """Overdue on `today` (model/dunning.py `is_overdue`), on the invoices themselves:
    collectable, and what is due next fell due before today (ix_invoices_collect)."""
    return and_(*collectable(), Invoice.next_due_date < today)


def _fell_due(customer_id: int | None, today: date) -> list[ColumnElement[bool]]:
    """The summary's rows of what fell due before `today` (one customer's, or all)."""
    return [
        ReceivableTotals.customer_id == (ALL_CUSTOMERS if customer_id is None else customer_id),
        ReceivableTotals.falls_due < today,
    ]


def overdue_count(customer_id: int | None, today: date) -> Select[Any]:
    """How many invoices are overdue on `today` (of one customer, or all), from the
    summary: a scalar query."""
    return select(func.coalesce(func.sum(ReceivableTotals.invoice_count), 0)).where(
        *_fell_due(customer_id, today)
    )


def _sum_where(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, _DUE), else_=0)), 0)


def _money(hundredths: Any) -> Decimal:
    return Decimal(int(hundredths)).scaleb(-2)


async def overdue(db: Database, customer_id: int | None, today: date) -> tuple[int, Decimal]:
    """How many invoices are overdue on `today`, and what is still due of them."""
    query = select(
        func.coalesce(func.sum(ReceivableTotals.invoice_count), 0),
        func.coalesce(func.sum(_DUE), 0),
    ).where(*_fell_due(customer_id, today))
    async with db.read() as session:
        count, due = (await session.execute(query)).one()
    return int(count), _money(due)


async def receivables_aging(
    db: Database, settings: Settings, viewer: Viewer, customer_id: int | None = None
) -> Aging:
    """Amounts still due, by how long ago they fell due (all customers, or one; a customer
    sees only its own, and nothing of another's)."""
    scope = viewer.customer_scope
    if scope is not None and customer_id not in (None, scope):
        return Aging(ZERO, ZERO, ZERO, ZERO, ZERO)
    wanted = scope if scope is not None else customer_id
    today = local_day(db.now(), settings.business.zone)
    day = ReceivableTotals.falls_due

    def before(days: int) -> date:
        return today - timedelta(days=days)

    query = select(
        _sum_where(day >= today),
        _sum_where(and_(day < today, day >= before(30))),
        _sum_where(and_(day < before(30), day >= before(60))),
        _sum_where(and_(day < before(60), day >= before(90))),
        _sum_where(day < before(90)),
    ).where(ReceivableTotals.customer_id == (ALL_CUSTOMERS if wanted is None else wanted))
    async with db.read() as session:
        row = (await session.execute(query)).one()
    return Aging(*(_money(value) for value in row))


async def balances(
    db: Database, settings: Settings, customer_ids: Iterable[int]
) -> dict[int, Balance]:
    """{customer id: what it owes, and what of that is overdue}, in one query (a customer
    owing nothing is absent)."""
    today = local_day(db.now(), settings.business.zone)
    wanted = set(customer_ids) - {ALL_CUSTOMERS}
    query = (
        select(
            ReceivableTotals.customer_id,
            func.sum(_DUE),
            _sum_where(ReceivableTotals.falls_due < today),
        )
        .where(ReceivableTotals.customer_id.in_(wanted))
        .group_by(ReceivableTotals.customer_id)
    )
    async with db.read() as session:
        rows = (await session.execute(query)).all()
    return {
        customer_id: Balance(_money(outstanding), _money(late))
        for customer_id, outstanding, late in rows
    }
