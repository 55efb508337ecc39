"""What customers owe: the overdue card and count, the receivables aging (amounts still due
by days past due) and each customer's balance (outstanding, and overdue of it). All read
the receivables summary (store/receivable_totals.py): a row per customer, currency and
day, and their sum per customer and currency (what is overdue is that sum less the days
not due yet), never the invoices; amounts are never added across currencies;
`overdue_condition` is the same rule on the invoices, for the list's page.

Credit notes are left out (a credit is the customer's, not a receivable), and an invoice
with a payment plan counts by the first installment it has not paid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.orm import InstrumentedAttribute

from domain.config import Settings
from domain.model.access import Viewer
from domain.model.entities import Customer, Invoice, ReceivableBalance, ReceivableTotals
from domain.model.money import ZERO, from_stored
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
    currency: str


@dataclass(frozen=True)
class Balance:
    outstanding: Decimal
    overdue: Decimal


NOTHING = Balance(ZERO, ZERO)

_DUE = type_coerce(ReceivableTotals.due, BigInteger)  # thousandths
_OWED = type_coerce(ReceivableBalance.due, BigInteger)
_OWED_COUNT, _DAYS_COUNT = ReceivableBalance.invoice_count, ReceivableTotals.invoice_count


def overdue_condition(today: date) -> ColumnElement[bool]:
    """Overdue on `today` (model/dunning.py `is_overdue`), on the invoices themselves:
    collectable, and what is due next fell due before today (ix_invoices_collect)."""
    return and_(*collectable(), Invoice.next_due_date < today)


def currency_asked(
    asked: str | None, customer_id: int | None, settings: Settings
) -> ColumnElement[str]:
    """The one currency a card or an aging counts, as SQL (read in the same statement, no
    round trip of its own): the one asked for, else the customer's, else the business's."""
    default = settings.business.currency_code
    if asked is not None or customer_id is None:
        return literal(asked or default)
    own = select(Customer.currency).where(Customer.id == customer_id).scalar_subquery()
    return func.coalesce(own, literal(default))


def _owed_by(
    customer_id: int | None, owner: InstrumentedAttribute[int] = ReceivableTotals.customer_id
) -> ColumnElement[bool]:
    """The summary's rows of one customer, or of all (`owner`: the table's customer)."""
    return owner == (ALL_CUSTOMERS if customer_id is None else customer_id)


def _summed(
    column: Any,
    table: type[ReceivableTotals] | type[ReceivableBalance],
    customer_id: int | None,
    currency: str | None,
    *conditions: ColumnElement[bool],
) -> Any:
    """A summary table's `column` added up over one customer's rows (or all customers'),
    in one currency or all, as a scalar subquery."""
    query = select(func.coalesce(func.sum(column), 0)).where(
        _owed_by(customer_id, table.customer_id), *conditions
    )
    if currency is not None:
        query = query.where(table.currency == currency)
    return query.scalar_subquery()


def _overdue_sum(
    owed: Any, days: Any, customer_id: int | None, today: date, currency: str | None
) -> Any:
    """What is overdue on `today` of one measure (a count, an amount): its sum in the
    balance (`owed`) less its sum over the days not due yet (`days`); the days past
    would be a row per day of history."""
    in_all = _summed(owed, ReceivableBalance, customer_id, currency)
    not_yet_due = _summed(
        days, ReceivableTotals, customer_id, currency, ReceivableTotals.falls_due >= today
    )
    return in_all - not_yet_due


def overdue_count(customer_id: int | None, today: date, currency: str | None) -> Select[Any]:
    """How many invoices are overdue on `today` (of one customer, or all; in one currency,
    or all), from the summaries: a scalar query."""
    return select(_overdue_sum(_OWED_COUNT, _DAYS_COUNT, customer_id, today, currency))


def _sum_where(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, _DUE), else_=0)), 0)


async def overdue(
    db: Database, customer_id: int | None, currency: str, today: date
) -> tuple[int, Decimal]:
    """How many invoices in `currency` are overdue on `today`, and what is still due of
    them."""
    query = select(
        _overdue_sum(_OWED_COUNT, _DAYS_COUNT, customer_id, today, currency),
        _overdue_sum(_OWED, _DUE, customer_id, today, currency),
    )
    async with db.read() as session:
        count, due = (await session.execute(query)).one()
    return int(count), from_stored(due)


async def receivables_aging(
    db: Database,
    settings: Settings,
    viewer: Viewer,
    customer_id: int | None = None,
    currency: str | None = None,
) -> Aging:
    """Amounts still due in one currency (the one asked for, else the customer's, else
    business.currency_code), by how long ago they fell due (all customers, or one; a
    customer sees only its own, and nothing of another's)."""
    scope = viewer.customer_scope
    if scope is not None and customer_id not in (None, scope):
        return Aging(ZERO, ZERO, ZERO, ZERO, ZERO, currency or settings.business.currency_code)
    wanted = scope if scope is not None else customer_id
    today = local_day(db.now(), settings.business.zone)
    day = ReceivableTotals.falls_due

    def before(days: int) -> date:
        return today - timedelta(days=days)

    counted = currency_asked(currency, wanted, settings)
    query = select(
        _sum_where(day >= today),
        _sum_where(and_(day < today, day >= before(30))),
        _sum_where(and_(day < before(30), day >= before(60))),
        _sum_where(and_(day < before(60), day >= before(90))),
        _sum_where(day < before(90)),
        counted,
    ).where(_owed_by(wanted), ReceivableTotals.currency == counted)
    async with db.read() as session:
        *amounts, counted_in = (await session.execute(query)).one()
    current, days_30, days_60, days_90, older = (from_stored(value) for value in amounts)
    return Aging(current, days_30, days_60, days_90, older, str(counted_in))


async def balances(
    db: Database, settings: Settings, customer_ids: Iterable[int]
) -> dict[int, Balance]:
    """{customer id: what it owes, and what of that is overdue, in its currency}, in one
    query (a customer owing nothing is absent)."""
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
        customer_id: Balance(from_stored(outstanding), from_stored(late))
        for customer_id, outstanding, late in rows
    }
