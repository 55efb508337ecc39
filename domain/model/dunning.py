"""When an invoice is late, and what follows, without I/O: overdue and days overdue;
which reminder of the schedule is due; how many monthly late fees are due, and how much.

An invoice falls due on its due date or, with a payment plan, on the due date of the first
installment not paid yet (`next_due_date`, kept on the invoice so the database can filter
and count by it). It is overdue the day after, while it is open, has something due and is
not a credit note. Reminders and fees count from that date too, so after an installment
is paid the schedule starts again from the next one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from domain.model.entities import Installment
from domain.model.invoice_rules import InvoiceFacts
from domain.model.money import ZERO, round_money
from domain.model.payments import amount_due


def next_due_date(due_date: date, installments: Sequence[Installment]) -> date:
    """When what is due next falls due: the first installment not filled yet, else the
    invoice's own due date."""
    for part in installments:
        if part.amount_paid < part.amount:
            return part.due_date
    return due_date


def is_collectable(invoice: InvoiceFacts) -> bool:
    """Open, with money to ask for: not paid, not void, not a credit note or zero."""
    return amount_due(invoice) > 0


def days_overdue(invoice: InvoiceFacts, today: date) -> int:
    """Days since what is due next fell due (0 when it is not overdue)."""
    if not is_collectable(invoice):
        return 0
    return max(0, (today - invoice.next_due_date).days)


def is_overdue(invoice: InvoiceFacts, today: date) -> bool:
    return days_overdue(invoice, today) > 0


def reminder_due(falls_due: date, schedule: Sequence[int], today: date) -> int | None:
    """The latest step of the schedule (days from the due date) that is due today, if any:
    the one reminder a round sends, however many rounds were missed."""
    due = [step for step in schedule if falls_due + timedelta(days=step) <= today]
    return max(due) if due else None


def fee_months_due(falls_due: date, grace_days: int, today: date) -> int:
    """Whole months overdue, counted from the due date plus the grace days: one fee each."""
    start = falls_due + timedelta(days=grace_days)
    months = 0
    while start + relativedelta(months=months + 1) <= today:
        months += 1
    return months


@dataclass(frozen=True)
class LateFee:
    month: int
    amount: Decimal


def late_fees(
    still_due: Decimal, percent: Decimal, months: Iterable[int], currency: str
) -> list[LateFee]:
    """The fee of each month in `months`: `percent` of what is still due now (simple
    interest: never on earlier fees), rounded half up to the currency's minor unit; none
    when that rounds to nothing."""
    if percent <= 0 or still_due <= 0:
        return []
    amount = round_money(still_due * percent / Decimal(100), currency)
    if amount <= ZERO:
        return []
    return [LateFee(month, amount) for month in months]
