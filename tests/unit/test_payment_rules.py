"""The rules of amounts (domain/model/payments.py), without a database: what is due, what
one payment may be, what a plan must look like, how payments fill it, what to refund."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.errors import DomainError, ErrorCode
from domain.model.entities import Installment, Invoice, Payment
from domain.model.enums import InvoiceStatus, PaymentMethodKind
from domain.model.money import from_minor_units, to_minor_units
from domain.model.payments import (
    PlannedInstallment,
    allocate,
    amount_due,
    asked_online,
    ensure_card_chargeable,
    ensure_plan,
    next_installment,
    payment_amount,
    payment_to_refund,
)

TODAY = date(2026, 12, 7)


def invoice(**fields: object) -> Invoice:
    values: dict[str, object] = {
        "id": 12,
        "number": "INV-2026-000012",
        "status": InvoiceStatus.UNPAID,
        "void": False,
        "total": Decimal("110.00"),
        "amount_paid": Decimal("0.00"),
        "refund_reference": None,
        "currency": "USD",
    }
    return Invoice(**{**values, **fields})


def refused(call, *args: object) -> DomainError:
    with pytest.raises(DomainError) as raised:
        call(*args)
    return raised.value


def test_what_is_due_is_the_total_less_what_was_paid_and_nothing_once_settled() -> None:
    assert amount_due(invoice()) == Decimal("110.00")
    assert amount_due(invoice(amount_paid=Decimal("40.00"))) == Decimal("70.00")
    assert amount_due(invoice(status=InvoiceStatus.PAID, amount_paid=Decimal("110.00"))) == 0
    assert amount_due(invoice(void=True)) == 0
    assert amount_due(invoice(total=Decimal("-27.50"))) == Decimal("-27.50")


def test_a_payment_is_everything_due_unless_a_part_of_it_is_asked() -> None:
    part_paid = invoice(amount_paid=Decimal("40.00"))
    assert payment_amount(part_paid, None) == Decimal("70.00")
    assert payment_amount(part_paid, Decimal("70.00")) == Decimal("70.00")
    assert payment_amount(part_paid, Decimal("0.01")) == Decimal("0.01")


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("70.01", ErrorCode.AMOUNT_ABOVE_DUE),
        ("0", ErrorCode.INVALID_INPUT),
        ("-5", ErrorCode.INVALID_INPUT),
        ("10.005", ErrorCode.INVALID_INPUT),
        ("NaN", ErrorCode.INVALID_INPUT),
    ],
)
def test_a_payment_above_what_is_due_or_not_an_amount_is_refused(
    amount: str, code: ErrorCode
) -> None:
    error = refused(payment_amount, invoice(amount_paid=Decimal("40.00")), Decimal(amount))
    assert error.code is code and error.field == "amount"


def test_a_yen_payment_has_no_decimals() -> None:
    yen = invoice(total=Decimal("1100"), currency="JPY")
    assert refused(payment_amount, yen, Decimal("10.50")).code is ErrorCode.INVALID_INPUT
    assert payment_amount(yen, Decimal("100")) == Decimal("100")


def test_a_credit_note_is_settled_whole() -> None:
    credit = invoice(total=Decimal("-27.50"))
    assert payment_amount(credit, None) == Decimal("-27.50")
    assert refused(payment_amount, credit, Decimal("-10.00")).field == "amount"


def plan(*parts: tuple[date, str]) -> list[PlannedInstallment]:
    return [PlannedInstallment(day, Decimal(amount)) for day, amount in parts]


def test_a_plan_splits_exactly_what_is_due_on_increasing_dates() -> None:
    due = invoice(amount_paid=Decimal("10.00"))  # 100.00 due
    ensure_plan(due, plan((date(2027, 1, 1), "50.00"), (date(2027, 2, 1), "50.00")), TODAY)
    wrong = {
        "short": plan((date(2027, 1, 1), "50.00"), (date(2027, 2, 1), "49.99")),
        "same day": plan((date(2027, 1, 1), "50.00"), (date(2027, 1, 1), "50.00")),
        "backwards": plan((date(2027, 2, 1), "50.00"), (date(2027, 1, 1), "50.00")),
        "past": plan((date(2026, 12, 6), "100.00")),
        "zero": plan((date(2027, 1, 1), "100.00"), (date(2027, 2, 1), "0.00")),
        "cents": plan((date(2027, 1, 1), "99.995"), (date(2027, 2, 1), "0.005")),
        "empty": [],
    }
    for name, parts in wrong.items():
        error = refused(ensure_plan, due, parts, TODAY)
        assert error.code is ErrorCode.INVALID_INPUT, name
        assert error.field and error.field.startswith("installments"), name
    paid = invoice(status=InvoiceStatus.PAID, amount_paid=Decimal("110.00"))
    error = refused(ensure_plan, paid, plan((date(2027, 1, 1), "1.00")), TODAY)
    assert error.code is ErrorCode.NOT_PAYABLE


def installments(*amounts: str) -> list[Installment]:
    return [
        Installment(position=i, amount=Decimal(a), amount_paid=Decimal("0.00"))
        for i, a in enumerate(amounts, start=1)
    ]


def test_payments_fill_the_installments_in_order() -> None:
    parts = installments("40.00", "40.00", "30.00")
    allocate(parts, Decimal("50.00"))
    assert [p.amount_paid for p in parts] == [Decimal("40.00"), Decimal("10.00"), 0]
    assert next_installment(parts) is parts[1]
    allocate(parts, Decimal("60.00"))
    assert [p.amount_paid for p in parts] == [Decimal("40.00")] * 2 + [Decimal("30.00")]
    assert next_installment(parts) is None


def test_the_pay_page_asks_for_the_rest_of_the_next_installment_or_everything() -> None:
    due = invoice(amount_paid=Decimal("50.00"))
    parts = installments("40.00", "40.00", "30.00")
    allocate(parts, Decimal("50.00"))
    assert asked_online(due, parts, everything=False) == Decimal("30.00")
    assert asked_online(due, parts, everything=True) == Decimal("60.00")
    assert asked_online(due, [], everything=False) == Decimal("60.00")


def payment(id: int, method: PaymentMethodKind, refunded: str = "0.00") -> Payment:
    return Payment(
        id=id,
        amount=Decimal("55.00"),
        method=method,
        reference=f"pi_{id}" if method is PaymentMethodKind.STRIPE else "till",
        refunded_amount=Decimal(refunded),
    )


def test_a_refund_gives_back_the_latest_card_payment_with_money_left_or_the_one_named() -> None:
    paid = invoice(status=InvoiceStatus.PAID, amount_paid=Decimal("110.00"))
    card, cash = payment(1, PaymentMethodKind.STRIPE), payment(2, PaymentMethodKind.CASH)
    two_cards = [card, payment(3, PaymentMethodKind.STRIPE)]
    assert payment_to_refund(paid, two_cards, None).id == 3
    assert payment_to_refund(paid, two_cards, 1).id == 1
    assert payment_to_refund(paid, [card, cash], None).id == 1
    assert refused(payment_to_refund, paid, [cash], None).code is ErrorCode.NOT_REFUNDABLE
    assert refused(payment_to_refund, paid, [card, cash], 2).code is ErrorCode.NOT_REFUNDABLE
    assert refused(payment_to_refund, paid, [card], 9).code is ErrorCode.NOT_FOUND
    given_back = payment(1, PaymentMethodKind.STRIPE, refunded="55.00")
    assert refused(payment_to_refund, paid, [given_back], 1).code is ErrorCode.ALREADY_REFUNDED
    part_paid = invoice(amount_paid=Decimal("55.00"))
    assert refused(payment_to_refund, part_paid, [card], None).code is ErrorCode.NOT_PAID


def test_the_card_provider_takes_each_currency_in_its_own_minor_units() -> None:
    assert to_minor_units(Decimal("1650"), "JPY") == 1650  # zero-decimal: yen are yen
    assert to_minor_units(Decimal("12.34"), "EUR") == 1234
    assert to_minor_units(Decimal("12.34"), "KWD") == 12340  # fils
    assert to_minor_units(Decimal("5"), "ISK") == 500  # written with two decimals
    assert from_minor_units(1650, "JPY") == Decimal("1650") and from_minor_units(500, "ISK") == 5
    assert from_minor_units(12340, "KWD") == Decimal("12.34")


def test_a_dinar_amount_the_card_provider_cannot_take_is_refused_before_asking_it() -> None:
    assert refused(ensure_card_chargeable, Decimal("12.345"), "KWD").code is (
        ErrorCode.INVALID_INPUT
    )
    ensure_card_chargeable(Decimal("12.34"), "KWD")
    ensure_card_chargeable(Decimal("1650"), "JPY")
