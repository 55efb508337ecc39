"""What customers owe: the receivables aging (amounts still due by days past due) and each
customer's balance (outstanding, and overdue of it). Both read the open invoices through
ix_invoices_collect: a range of the index, never the whole table.

Credit notes are left out (a credit is the customer's, not a receivable), and an invoice
with a payment plan is aged by the first installment it has not paid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, case, func, select, type_coerce

from domain.config import Settings
from domain.model.access import Viewer
from domain.model.entities import Invoice
from domain.model.money import ZERO
from domain.model.periods import local_day
from domain.store.database import Database
from domain.store.dunning import collectable


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

_DUE = type_coerce(Invoice.total - Invoice.amount_paid, BigInteger)  # hundredths


def overdue_condition(today: date) -> ColumnElement[bool]:
    """Overdue on `today` (model/dunning.py `is_overdue`, in SQL): collectable, and what is
    due next fell due before today. A range of ix_invoices_collect."""
    return and_(*collectable(), Invoice.next_due_date < today)


def _sum_where(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, _DUE), else_=0)), 0)


def _money(hundredths: Any) -> Decimal:
    return Decimal(int(hundredths)).scaleb(-2)


async def receivables_aging(
    db: Database, settings: Settings, viewer: Viewer, customer_id: int | None = None
) -> Aging:
    """Amounts still due, by how long ago they fell due (all customers, or one; a customer
    sees only its own, and nothing of another's)."""
    today = local_day(db.now(), settings.business.zone)
    conditions = collectable()
    scope = viewer.customer_scope
    if scope is not None and customer_id not in (None, scope):
        return Aging(ZERO, ZERO, ZERO, ZERO, ZERO)
    wanted = scope if scope is not None else customer_id
    if wanted is not None:
        conditions.append(Invoice.customer_id == wanted)
    due = Invoice.next_due_date

    def before(days: int) -> date:
        return today - timedelta(days=days)

    query = select(
        _sum_where(due >= today),
        _sum_where(and_(due < today, due >= before(30))),
        _sum_where(and_(due < before(30), due >= before(60))),
        _sum_where(and_(due < before(60), due >= before(90))),
        _sum_where(due < before(90)),
    ).where(*conditions)
    async with db.read() as session:
        row = (await session.execute(query)).one()
    return Aging(*(_money(value) for value in row))


async def balances(
    db: Database, settings: Settings, customer_ids: Iterable[int]
) -> dict[int, Balance]:
    """{customer id: what it owes, and what of that is overdue}, in one query (a customer
    owing nothing is absent)."""
    today = local_day(db.now(), settings.business.zone)
    query = (
        select(
            Invoice.customer_id,
            func.sum(_DUE),
            _sum_where(Invoice.next_due_date < today),
        )
        .where(*collectable(), Invoice.customer_id.in_(set(customer_ids)))
        .group_by(Invoice.customer_id)
    )
    async with db.read() as session:
        rows = (await session.execute(query)).all()
    return {
        customer_id: Balance(_money(outstanding), _money(overdue))
        for customer_id, outstanding, overdue in rows
    }
