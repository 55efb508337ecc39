"""The specification's rules for an issued invoice: what may happen to it in which state,
which buttons its details modal shows, and how its number, period and taxes read.

    UNPAID ──pay (in one payment or several)──> PAID ──refund (card only)──> REFUNDED
      │                                          └──a partial refund: stays PAID,
      │                                             refunded_amount grows
      └──void (nothing paid yet)──> void (its charges become billable again; Workflow 7)

A credit note (a total below zero: only credits) is never paid: staff settle it by
returning the funds (method REFUND), or leave it as the customer's balance. A zero total
is settled when it is generated. While a card payment or refund is open (an attempt
PENDING), nothing else may pay, void or refund the invoice.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from domain.errors import DomainError, ErrorCode
from domain.model.access import Viewer
from domain.model.entities import Customer, Invoice, InvoiceLine, Transaction
from domain.model.enums import InvoiceStatus, PaymentMethodKind, TransactionKind
from domain.model.formatting import Formatter
from domain.model.money import ZERO, to_minor_units
from domain.model.texts import text


class Action(enum.StrEnum):
    DOWNLOAD_PDF = "DOWNLOAD_PDF"
    SEND_EMAIL = "SEND_EMAIL"
    PAY = "PAY"
    REFUND = "REFUND"
    VOID = "VOID"


class InvoiceFacts(Protocol):
    """What the rules below read of an invoice: the ORM's Invoice, or a row of the
    invoices table as a list page reads it (queries/invoices.py `InvoiceRow`)."""

    @property
    def status(self) -> InvoiceStatus: ...
    @property
    def void(self) -> bool: ...
    @property
    def total(self) -> Decimal: ...
    @property
    def amount_paid(self) -> Decimal: ...
    @property
    def next_due_date(self) -> date: ...
    @property
    def payment_method(self) -> PaymentMethodKind | None: ...


def is_open(invoice: InvoiceFacts) -> bool:
    return invoice.status is InvoiceStatus.UNPAID and not invoice.void


def is_credit_note(total: Decimal) -> bool:
    return total < 0


def ensure_payable(invoice: Invoice, method: PaymentMethodKind) -> None:
    if invoice.void:
        raise DomainError(ErrorCode.ALREADY_VOID, f"Invoice {invoice.number} is void.")
    if invoice.status is not InvoiceStatus.UNPAID:
        raise DomainError(ErrorCode.ALREADY_PAID, f"Invoice {invoice.number} is already paid.")
    if is_credit_note(invoice.total) and method is not PaymentMethodKind.REFUND:
        raise DomainError(
            ErrorCode.NOT_PAYABLE,
            f"{invoice.number} is a credit note of {invoice.total}: it is settled by returning "
            "the funds to the customer (method REFUND, with a reference), not paid.",
        )
    if method is PaymentMethodKind.STRIPE and invoice.total <= 0:
        raise DomainError(
            ErrorCode.NOT_PAYABLE,
            f"Invoice {invoice.number} totals {invoice.total}; there is nothing to charge.",
        )


def ensure_no_open_attempt(invoice: Invoice, open_attempts: int) -> None:
    if open_attempts:
        raise DomainError(
            ErrorCode.PAYMENT_IN_PROGRESS,
            f"A card payment or refund of invoice {invoice.number} is in progress; "
            "its outcome is being confirmed with the payment provider.",
        )


def ensure_voidable(invoice: Invoice) -> None:
    if invoice.void:
        raise DomainError(ErrorCode.ALREADY_VOID, f"Invoice {invoice.number} is already void.")
    if invoice.status is not InvoiceStatus.UNPAID:
        raise DomainError(
            ErrorCode.ALREADY_PAID,
            f"Invoice {invoice.number} is paid and cannot be voided; refund it instead.",
        )
    if invoice.amount_paid:
        raise DomainError(
            ErrorCode.ALREADY_PAID,
            f"Invoice {invoice.number} is part paid ({invoice.amount_paid} received) and "
            "cannot be voided: the customer's money would be lost with it.",
        )


def ensure_sendable(invoice: Invoice) -> None:
    if invoice.void:
        raise DomainError(
            ErrorCode.ALREADY_VOID, f"Invoice {invoice.number} is void and is not sent."
        )


def actions_for(invoice: InvoiceFacts, viewer: Viewer, *, pending: bool = False) -> list[Action]:
    """The buttons the details modal shows this viewer now (`pending`: a card payment or
    refund is being settled, so nothing else may happen to it meanwhile)."""
    allowed = [Action.DOWNLOAD_PDF]
    if not invoice.void:
        allowed.append(Action.SEND_EMAIL)
    if pending:
        return allowed
    if is_open(invoice) and invoice.total > 0:
        allowed.append(Action.PAY)
    if (
        viewer.is_staff
        and invoice.status is InvoiceStatus.PAID
        and invoice.payment_method is PaymentMethodKind.STRIPE
    ):
        allowed.append(Action.REFUND)
    if viewer.is_staff and is_open(invoice) and not invoice.amount_paid:
        allowed.append(Action.VOID)
    return allowed


def period_text(start: date | None, end: date | None) -> str:
    """ "2025-01-01 - 2025-01-31", or "N/A" without a period."""
    if start is None or end is None:
        return "N/A"
    return f"{start.isoformat()} - {end.isoformat()}"


def tax_display(line: InvoiceLine, formatter: Formatter) -> str:
    """As the details modal shows a line's tax: "$10.00 (10%)", or "-" when there is none."""
    if line.tax_amount == 0:
        return "-"
    return f"{formatter.money(line.tax_amount)} ({formatter.percent(line.tax_percentage)}%)"


def invoice_number(
    number_format: str, issued_at: datetime, zone: ZoneInfo, invoice_id: int, seq: int = 0
) -> str:
    """INV-2025-000123: invoice.number_format, with the year it was issued in `zone`, its
    place in its series and its id."""
    return number_format.format(year=issued_at.astimezone(zone).year, id=invoice_id, seq=seq)


def takes_a_sequence(number_format: str) -> bool:
    """Whether numbers of this format take the next of their series ({seq})."""
    return "{seq" in number_format


def number_series(credit_note: bool, issued_at: datetime, zone: ZoneInfo, yearly: bool) -> str:
    """The series an invoice is numbered in: invoices and credit notes apart, each per
    year (in `zone`) unless the series never starts again ("credit_note:0")."""
    period = issued_at.astimezone(zone).year if yearly else 0
    return f"{'credit_note' if credit_note else 'invoice'}:{period}"


def settling_transaction(
    invoice: Invoice,
    customer: Customer,
    kind: TransactionKind,
    description: str,
    at: datetime,
    amount: Decimal | None = None,
) -> Transaction:
    """A transaction that settles an invoice, in whole or in part: a PAYMENT of minus
    `amount` (all of the total unless given), or a REFUND of `amount` returned to the
    customer. A credit note's settlement is the REFUND of the funds it owes (minus its
    negative total). Titled in the customer's language."""
    if kind is TransactionKind.CHARGE:
        raise ValueError("charges are billed, not settled")
    if kind is TransactionKind.PAYMENT:
        cost = -(amount if amount is not None else invoice.total)
        title = "payment_title"
    else:
        cost = abs(amount) if amount is not None else abs(invoice.total)
        title = "refund_title"
    return Transaction(
        kind=kind,
        customer_id=invoice.customer_id,
        invoice_id=invoice.id,
        title=text(customer.language, title, number=invoice.number),
        description=description,
        created_at=at,
        retail_cost=cost,
        tax_percentage=ZERO,
        tax_amount=ZERO,
    )


def expected_balance(invoice: Invoice) -> Decimal:
    """What the invoice's total plus its settling transactions must come to: what is left
    due of an unpaid one (its whole total before any payment), what was refunded of a
    paid or refunded one."""
    if invoice.status is InvoiceStatus.UNPAID:
        return invoice.total - invoice.amount_paid
    return invoice.refunded_amount


def pdf_filename(invoice_id: int, number: str | None = None, total: Decimal = ZERO) -> str:
    """What a downloaded or attached PDF is called: Invoice_00012.pdf, or for a credit
    note CreditNote_<its number>.pdf (only the number's letters, digits, dots and dashes)."""
    if is_credit_note(total) and number:
        return f"CreditNote_{re.sub(r'[^A-Za-z0-9.-]', '_', number)}.pdf"
    return f"Invoice_{invoice_id:05d}.pdf"


def line_totals(costs: list[Decimal], taxes: list[Decimal]) -> tuple[Decimal, Decimal, Decimal]:
    """Subtotal, tax and total: sums of the lines, each already rounded."""
    subtotal = sum(costs, Decimal("0.00"))
    tax = sum(taxes, Decimal("0.00"))
    return subtotal, tax, subtotal + tax


def charge_problem(
    *,
    succeeded: bool,
    amount_minor: int,
    currency: str,
    expected_amount: Decimal,
    expected_currency: str,
    customer_ref: str | None = None,
    expected_customer_ref: str | None = None,
) -> str | None:
    """Why a provider's charge does not pay what was asked (None when it does): it must
    have succeeded, in the invoice's currency, for exactly `expected_amount`, from the
    invoice's customer."""
    if not succeeded:
        return "the payment did not succeed"
    if currency.upper() != expected_currency.upper():
        return f"paid in {currency.upper()}, the invoice is in {expected_currency.upper()}"
    expected = to_minor_units(expected_amount, expected_currency)
    if amount_minor != expected:
        return f"{amount_minor} paid in minor units, {expected} was asked"
    if customer_ref and expected_customer_ref and customer_ref != expected_customer_ref:
        return f"paid by {customer_ref}, the invoice's customer is {expected_customer_ref}"
    return None


NAMED_IN_A_MESSAGE = 10


def ensure_exclusions_known(excluded: Iterable[int], candidates: Iterable[int]) -> None:
    """Every id left out of an invoice must be one of the charges it would bill: an id
    that is not (a typo, another customer's charge) is refused, not silently ignored."""
    unknown = sorted(set(excluded) - set(candidates))
    if unknown:
        # A few ids, then how many more: a message never echoes a whole hostile list.
        ids = ", ".join(str(i) for i in unknown[:NAMED_IN_A_MESSAGE])
        if len(unknown) > NAMED_IN_A_MESSAGE:
            ids += f" and {len(unknown) - NAMED_IN_A_MESSAGE} more"
        raise DomainError(
            ErrorCode.TRANSACTION_UNAVAILABLE,
            f"Excluded transaction {ids} {'is' if len(unknown) == 1 else 'are'} not among "
            "the unbilled charges of this customer in the period.",
            "excluded_transaction_ids",
        )
