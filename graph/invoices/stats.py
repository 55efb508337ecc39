"""invoiceStats and Customer.invoiceStats: the four stats widgets."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from domain.model import validation
from domain.queries import invoice_stats, receivables
from graph.context import Info
from graph.enums import Trend


@strawberry.type
class StatCard:
    amount: Decimal = strawberry.field(
        description="Sum of the invoices' totals; for the unpaid and overdue cards, what is still due of them."
    )
    count: int
    display: str = strawberry.field(
        description="amount as a widget shows it: $950.00, $1.5k, $2.3M, $1.1B."
    )
    change_percent: float | None = strawberry.field(
        description="Change against the previous calendar month, in percent; null where it has no meaning."
    )
    trend: Trend | None

    @classmethod
    def from_domain(cls, card: invoice_stats.StatCard) -> StatCard:
        return cls(
            amount=card.amount,
            count=card.count,
            display=card.display,
            change_percent=card.change_percent,
            trend=card.trend,
        )


@strawberry.type
class InvoiceStats:
    total: StatCard = strawberry.field(description="All non-void invoices, all time.")
    unpaid: StatCard = strawberry.field(description="Non-void invoices not paid yet.")
    this_month: StatCard = strawberry.field(
        description="Non-void invoices created this calendar month."
    )
    last_month: StatCard = strawberry.field(
        description="Non-void invoices created last calendar month."
    )
    overdue: StatCard = strawberry.field(
        description="Invoices overdue today (business.timezone): their count and what is still due of them."
    )
    currency: str = strawberry.field(
        description="ISO 4217: the one currency every card counts (cards never add up two)."
    )

    @classmethod
    def from_domain(cls, stats: invoice_stats.InvoiceStats) -> InvoiceStats:
        return cls(
            total=StatCard.from_domain(stats.total),
            unpaid=StatCard.from_domain(stats.unpaid),
            this_month=StatCard.from_domain(stats.this_month),
            last_month=StatCard.from_domain(stats.last_month),
            overdue=StatCard.from_domain(stats.overdue),
            currency=stats.currency,
        )


async def stats_of(
    info: Info, customer_id: int | None, currency: str | None = None
) -> InvoiceStats | None:
    """None when the viewer may not see that customer."""
    ctx = info.context
    wanted = validation.currency("currency", currency) if currency is not None else None
    stats = await invoice_stats.invoice_stats(ctx.db, ctx.settings, ctx.viewer, customer_id, wanted)
    return InvoiceStats.from_domain(stats) if stats else None


@strawberry.type
class Aging:
    """What is still due of the open invoices, by how long ago it fell due (a payment
    plan's by its first installment not paid)."""

    current: Decimal = strawberry.field(description="Not yet due.")
    days_1_to_30: Decimal = strawberry.field(name="days1To30")
    days_31_to_60: Decimal = strawberry.field(name="days31To60")
    days_61_to_90: Decimal = strawberry.field(name="days61To90")
    over_90: Decimal = strawberry.field(name="over90")
    currency: str = strawberry.field(description="ISO 4217: what these amounts are in.")

    @classmethod
    def from_domain(cls, aging: receivables.Aging) -> Aging:
        return cls(
            current=aging.current,
            days_1_to_30=aging.days_1_to_30,
            days_31_to_60=aging.days_31_to_60,
            days_61_to_90=aging.days_61_to_90,
            over_90=aging.over_90,
            currency=aging.currency,
        )
