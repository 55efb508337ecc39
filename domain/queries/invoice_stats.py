"""The stats widgets: total, unpaid, this month, last month and overdue, void invoices
excluded, in one currency: the one asked for, else the customer's (for one customer's
cards), else business.currency_code. Cards never add up different currencies."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, case, func, select, type_coerce

from domain.config import Settings
from domain.model.access import Viewer
from domain.model.entities import Customer, InvoiceTotals
from domain.model.enums import InvoiceStatus
from domain.model.formatting import Formatter
from domain.model.money import from_stored
from domain.model.periods import local_day, month_start
from domain.queries import receivables
from domain.store.database import Database
from domain.store.invoice_totals import ALL_CUSTOMERS


class Trend(enum.StrEnum):
    UP = "UP"
    DOWN = "DOWN"
    FLAT = "FLAT"


@dataclass(frozen=True)
class StatCard:
    amount: Decimal
    count: int
    display: str
    change_percent: float | None = None
    trend: Trend | None = None


@dataclass(frozen=True)
class InvoiceStats:
    total: StatCard
    unpaid: StatCard
    this_month: StatCard
    last_month: StatCard
    overdue: StatCard
    currency: str


def change(current: Decimal, previous: Decimal) -> tuple[float | None, Trend]:
    """Percent change and arrow; growth from nothing is UP with no percentage."""
    trend = Trend.UP if current > previous else Trend.DOWN if current < previous else Trend.FLAT
    if previous == 0:
        return None, trend
    return round(float((current - previous) / abs(previous) * 100), 1), trend


async def invoice_stats(
    db: Database,
    settings: Settings,
    viewer: Viewer,
    customer_id: int | None = None,
    currency: str | None = None,
) -> InvoiceStats | None:
    """None when the viewer may not see that customer."""
    scope = viewer.customer_scope
    if scope is not None:
        if customer_id is not None and customer_id != scope:
            return None
        customer_id = scope
    business = settings.business
    # Staff read the widgets in the business's language; a customer reads its own in its
    # language, as its PDFs and emails print amounts.
    language = business.default_language
    counted = receivables.currency_asked(currency, customer_id, settings)
    local_today = local_day(db.now(), settings.business.zone)
    this_month, last_month, month_before = (
        (day.year * 100 + day.month)
        for day in (month_start(local_today, back) for back in (0, 1, 2))
    )
    # One small read of the maintained summary (domain/invoice_totals.py), never a scan.
    thousandths = type_coerce(InvoiceTotals.total, BigInteger)
    unpaid = InvoiceTotals.status == InvoiceStatus.UNPAID
    # The unpaid card is what is still due: the unpaid invoices' totals less their payments.
    due = type_coerce(InvoiceTotals.total - InvoiceTotals.paid, BigInteger)

    def bucket(condition: ColumnElement[bool], amount: Any = thousandths) -> tuple[Any, Any]:
        return (
            func.coalesce(func.sum(case((condition, amount))), 0),
            func.coalesce(func.sum(case((condition, InvoiceTotals.invoice_count))), 0),
        )

    query = select(
        func.coalesce(func.sum(thousandths), 0),
        func.coalesce(func.sum(InvoiceTotals.invoice_count), 0),
        *bucket(unpaid, due),
        *bucket(InvoiceTotals.month == this_month),
        *bucket(InvoiceTotals.month == last_month),
        *bucket(InvoiceTotals.month == month_before),
        counted,
    ).where(
        InvoiceTotals.void.is_(False),
        InvoiceTotals.customer_id == (customer_id if customer_id is not None else ALL_CUSTOMERS),
        InvoiceTotals.currency == counted,
    )
    async with db.read() as session:
        row = (await session.execute(query)).one()
        if scope is not None:
            own = await session.scalar(select(Customer.language).where(Customer.id == scope))
            language = own if own in business.languages else language
    currency = str(row[10])
    amounts = [from_stored(row[i]) for i in range(0, 10, 2)]
    counts = [int(row[i]) for i in range(1, 10, 2)]
    formatter = Formatter.of(business, language, currency)

    def card(index: int, previous: int | None = None) -> StatCard:
        percent, trend = (
            change(amounts[index], amounts[previous]) if previous is not None else (None, None)
        )
        return StatCard(
            amounts[index], counts[index], formatter.compact(amounts[index]), percent, trend
        )

    # Overdue depends on the day: the receivables summary, by the day things fall due.
    late_count, late_amount = await receivables.overdue(db, customer_id, currency, local_today)
    overdue = StatCard(late_amount, late_count, formatter.compact(late_amount))
    return InvoiceStats(
        total=card(0),
        unpaid=card(1),
        this_month=card(2, 3),
        last_month=card(3, 4),
        overdue=overdue,
        currency=currency,
    )
