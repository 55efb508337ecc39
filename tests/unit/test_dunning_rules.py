"""When an invoice is late and what follows (domain/model/dunning.py), without a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.model.dunning import (
    LateFee,
    days_overdue,
    fee_months_due,
    is_overdue,
    late_fees,
    next_due_date,
    reminder_due,
)
from domain.model.entities import Installment, Invoice
from domain.model.enums import InvoiceStatus

DUE = date(2026, 1, 31)
SCHEDULE = [-3, 1, 7, 14, 30]


def invoice(**fields: object) -> Invoice:
    values: dict[str, object] = {
        "status": InvoiceStatus.UNPAID,
        "void": False,
        "total": Decimal("110.00"),
        "amount_paid": Decimal("0.00"),
        "due_date": DUE,
        "next_due_date": DUE,
    }
    return Invoice(**{**values, **fields})


def test_an_invoice_is_overdue_the_day_after_it_falls_due_while_something_is_due() -> None:
    assert days_overdue(invoice(), DUE) == 0 and not is_overdue(invoice(), DUE)
    assert days_overdue(invoice(), date(2026, 2, 1)) == 1
    assert days_overdue(invoice(amount_paid=Decimal("100.00")), date(2026, 2, 10)) == 10
    for settled in (
        invoice(status=InvoiceStatus.PAID),
        invoice(void=True),
        invoice(total=Decimal("-20.00")),
        invoice(total=Decimal("0.00")),
    ):
        assert not is_overdue(settled, date(2026, 6, 1))


def test_with_a_plan_it_falls_due_with_the_first_installment_not_paid() -> None:
    plan = [
        Installment(
            due_date=date(2026, 2, 15), amount=Decimal("50.00"), amount_paid=Decimal("50.00")
        ),
        Installment(
            due_date=date(2026, 3, 15), amount=Decimal("60.00"), amount_paid=Decimal("10.00")
        ),
    ]
    assert next_due_date(DUE, plan) == date(2026, 3, 15)
    assert next_due_date(DUE, []) == DUE


def test_a_round_sends_the_latest_step_due_never_the_missed_ones() -> None:
    assert reminder_due(DUE, SCHEDULE, date(2026, 1, 27)) is None
    assert reminder_due(DUE, SCHEDULE, date(2026, 1, 28)) == -3
    assert reminder_due(DUE, SCHEDULE, date(2026, 2, 1)) == 1
    assert reminder_due(DUE, SCHEDULE, date(2026, 3, 20)) == 30  # 7 and 14 were missed
    assert reminder_due(DUE, [], date(2026, 3, 20)) is None


def test_a_fee_is_due_for_each_whole_calendar_month_after_the_grace() -> None:
    assert fee_months_due(DUE, 0, date(2026, 2, 27)) == 0
    assert fee_months_due(DUE, 0, date(2026, 2, 28)) == 1  # January 31st + 1 month
    assert fee_months_due(DUE, 0, date(2026, 5, 30)) == 3
    assert fee_months_due(DUE, 10, date(2026, 3, 9)) == 0
    assert fee_months_due(DUE, 10, date(2026, 3, 10)) == 1


def test_the_fee_is_a_simple_percentage_of_what_is_still_due_rounded_half_up() -> None:
    assert late_fees(Decimal("110.00"), Decimal("2"), [1], "USD") == [LateFee(1, Decimal("2.20"))]
    assert late_fees(Decimal("0.25"), Decimal("2"), [2, 3], "USD") == [
        LateFee(2, Decimal("0.01")),
        LateFee(3, Decimal("0.01")),
    ]
    assert late_fees(Decimal("0.24"), Decimal("2"), [1], "USD") == []  # rounds to nothing
    assert late_fees(Decimal("110.00"), Decimal("0"), [1], "USD") == []
    assert late_fees(Decimal("1100"), Decimal("1.5"), [1], "JPY") == [LateFee(1, Decimal("17"))]
