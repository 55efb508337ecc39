"""The specification's rules for an issued invoice, on plain entities (no database)."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain.errors import DomainError, ErrorCode
from domain.model.access import SYSTEM, Viewer
from domain.model.entities import Customer, Invoice, InvoiceLine
from domain.model.enums import InvoiceStatus, PaymentMethodKind, Role, TransactionKind
from domain.model.formatting import Formatter
from domain.model.invoice_rules import (
    Action,
    actions_for,
    charge_problem,
    ensure_no_open_attempt,
    ensure_payable,
    ensure_voidable,
    expected_balance,
    invoice_number,
    line_totals,
    period_text,
    settling_transaction,
    tax_display,
)

PORTAL = Viewer(role=Role.CUSTOMER, name="portal", customer_id=7)
NOW = datetime(2025, 2, 3, 10, tzinfo=UTC)


def invoice(**fields: object) -> Invoice:
    values: dict[str, object] = {
        "id": 12,
        "number": "INV-2025-000012",
        "customer_id": 7,
        "status": InvoiceStatus.UNPAID,
        "void": False,
        "total": Decimal("110.00"),
        "payment_method": None,
        "payment_reference": None,
        "refund_reference": None,
        "amount_paid": Decimal("0.00"),
    }
    return Invoice(**{**values, **fields})


def code_of(rule, subject: Invoice) -> ErrorCode:
    with pytest.raises(DomainError) as refused:
        rule(subject)
    return refused.value.code


def test_an_open_invoice_may_be_paid_voided_and_sent_by_staff() -> None:
    assert actions_for(invoice(), SYSTEM) == [
        Action.DOWNLOAD_PDF,
        Action.SEND_EMAIL,
        Action.PAY,
        Action.VOID,
    ]
    ensure_payable(invoice(), PaymentMethodKind.STRIPE)
    ensure_voidable(invoice())


def test_a_customer_may_pay_but_never_void_or_refund() -> None:
    assert actions_for(invoice(), PORTAL) == [Action.DOWNLOAD_PDF, Action.SEND_EMAIL, Action.PAY]
    card_paid = invoice(status=InvoiceStatus.PAID, payment_method=PaymentMethodKind.STRIPE)
    assert actions_for(card_paid, PORTAL) == [Action.DOWNLOAD_PDF, Action.SEND_EMAIL]


def test_a_void_invoice_offers_only_its_pdf_and_refuses_payment_and_a_second_void() -> None:
    void = invoice(void=True)
    assert actions_for(void, SYSTEM) == [Action.DOWNLOAD_PDF]
    assert code_of(paying(PaymentMethodKind.CASH), void) is ErrorCode.ALREADY_VOID
    assert code_of(ensure_voidable, void) is ErrorCode.ALREADY_VOID


def test_a_paid_invoice_is_refunded_only_when_paid_by_card() -> None:
    by_card = invoice(
        status=InvoiceStatus.PAID,
        payment_method=PaymentMethodKind.STRIPE,
        payment_reference="pi_123",
    )
    assert Action.REFUND in actions_for(by_card, SYSTEM)
    assert code_of(ensure_voidable, by_card) is ErrorCode.ALREADY_PAID
    assert code_of(paying(PaymentMethodKind.CASH), by_card) is ErrorCode.ALREADY_PAID
    cash = invoice(status=InvoiceStatus.PAID, payment_method=PaymentMethodKind.CASH)
    assert Action.REFUND not in actions_for(cash, SYSTEM)


def paying(method: PaymentMethodKind):
    return lambda subject: ensure_payable(subject, method)


def test_a_card_is_charged_only_for_a_positive_total() -> None:
    ensure_payable(invoice(total=Decimal("0.01")), PaymentMethodKind.STRIPE)
    by_card = paying(PaymentMethodKind.STRIPE)
    assert code_of(by_card, invoice(total=Decimal("0.00"))) is ErrorCode.NOT_PAYABLE


def test_a_credit_note_is_never_paid_only_settled_by_returning_its_funds() -> None:
    credit = invoice(total=Decimal("-27.50"))
    for method in (PaymentMethodKind.STRIPE, PaymentMethodKind.CASH, PaymentMethodKind.POS):
        assert code_of(paying(method), credit) is ErrorCode.NOT_PAYABLE
    ensure_payable(credit, PaymentMethodKind.REFUND)
    assert Action.PAY not in actions_for(credit, SYSTEM)


def test_nothing_happens_to_an_invoice_while_a_card_payment_is_open() -> None:
    assert actions_for(invoice(), SYSTEM, pending=True) == [Action.DOWNLOAD_PDF, Action.SEND_EMAIL]
    with pytest.raises(DomainError) as refused:
        ensure_no_open_attempt(invoice(), 1)
    assert refused.value.code is ErrorCode.PAYMENT_IN_PROGRESS


def test_the_period_reads_as_two_dates_or_not_applicable() -> None:
    assert period_text(date(2025, 1, 1), date(2025, 1, 31)) == "2025-01-01 - 2025-01-31"
    assert period_text(None, date(2025, 1, 31)) == "N/A"


def test_a_lines_tax_shows_amount_and_percentage_or_a_dash() -> None:
    english = Formatter("USD", "en")
    taxed = InvoiceLine(tax_amount=Decimal("10.00"), tax_percentage=Decimal("10.00"))
    assert tax_display(taxed, english) == "$10.00 (10%)"
    half = InvoiceLine(tax_amount=Decimal("1234.50"), tax_percentage=Decimal("10.50"))
    assert tax_display(half, english) == "$1,234.50 (10.5%)"
    assert tax_display(half, Formatter("USD", "es")) == "1.234,50\xa0US$ (10,5%)"
    assert tax_display(InvoiceLine(tax_amount=Decimal("0.00")), english) == "-"


def test_the_number_carries_the_year_issued_in_the_business_zone() -> None:
    new_years_eve_utc = datetime(2024, 12, 31, 14, tzinfo=UTC)  # 1 January 2025 in Sydney
    assert invoice_number("INV-{year}-{id:06d}", new_years_eve_utc, ZoneInfo("UTC"), 42) == (
        "INV-2024-000042"
    )
    assert invoice_number(
        "INV-{year}-{id:06d}", new_years_eve_utc, ZoneInfo("Australia/Sydney"), 42
    ) == ("INV-2025-000042")


def test_totals_are_sums_of_the_rounded_lines() -> None:
    costs = [Decimal("0.10")] * 3
    taxes = [Decimal("0.02")] * 3  # 0.021 each, rounded per line
    assert line_totals(costs, taxes) == (Decimal("0.30"), Decimal("0.06"), Decimal("0.36"))


def test_a_charge_pays_only_for_exactly_what_was_asked_in_its_currency_from_its_customer() -> None:
    def problem(**given: object) -> str | None:
        args: dict = {"succeeded": True, "amount_minor": 11000, "currency": "usd"}
        return charge_problem(
            expected_amount=Decimal("110.00"), expected_currency="USD", **{**args, **given}
        )

    assert problem() is None
    assert problem(amount_minor=1) == "1 paid in minor units, 11000 was asked"
    assert problem(currency="eur") == "paid in EUR, the invoice is in USD"
    assert problem(succeeded=False) == "the payment did not succeed"
    mismatch = problem(customer_ref="cus_b", expected_customer_ref="cus_a")
    assert mismatch is not None and "cus_b" in mismatch


def test_payments_and_refunds_come_to_what_the_status_says() -> None:
    customer = Customer(id=7, language="en")
    paid = invoice(status=InvoiceStatus.PAID, refunded_amount=Decimal("0.00"))
    payment = settling_transaction(paid, customer, TransactionKind.PAYMENT, "CASH", NOW)
    assert (
        payment.retail_cost == Decimal("-110.00") and payment.title == "Payment for INV-2025-000012"
    )
    assert paid.total + payment.retail_cost == expected_balance(paid)
    part = settling_transaction(
        paid, customer, TransactionKind.REFUND, "re_1", NOW, Decimal("10.00")
    )
    paid.refunded_amount = Decimal("10.00")
    assert paid.total + payment.retail_cost + part.retail_cost == expected_balance(paid)
    credit = invoice(
        total=Decimal("-27.50"), status=InvoiceStatus.PAID, refunded_amount=Decimal("0.00")
    )
    returned = settling_transaction(credit, customer, TransactionKind.REFUND, "transfer", NOW)
    assert returned.retail_cost == Decimal("27.50")
    assert credit.total + returned.retail_cost == expected_balance(credit) == Decimal("0.00")
    # unpaid: what is left due, the whole total before any payment
    assert expected_balance(invoice()) == Decimal("110.00")
    assert expected_balance(invoice(amount_paid=Decimal("40.00"))) == Decimal("70.00")
