"""The specification's rules for an issued invoice: what may happen to it in which state,
which buttons its details modal shows, and how its number, period and taxes read.

    UNPAID ──pay──> PAID ──refund (card only)──> REFUNDED
      │
      └──void──> void (its charges become billable again; Workflow 7)
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.errors import DomainError, ErrorCode, InvalidInput
from domain.model.access import Viewer
from domain.model.entities import Customer, Invoice, InvoiceLine, Transaction
from domain.model.enums import InvoiceStatus, PaymentMethodKind, TransactionKind
from domain.model.formatting import Formatter
from domain.model.money import ZERO
from domain.model.texts import text


class Action(enum.StrEnum):
    DOWNLOAD_PDF = "DOWNLOAD_PDF"
    SEND_EMAIL = "SEND_EMAIL"
    PAY = "PAY"
    REFUND = "REFUND"
    VOID = "VOID"


def is_open(invoice: Invoice) -> bool:
    return invoice.status is InvoiceStatus.UNPAID and not invoice.void


def ensure_payable(invoice: Invoice) -> None:
    if invoice.void:
        raise DomainError(ErrorCode.ALREADY_VOID, f"Invoice {invoice.number} is void.")
    if invoice.status is not InvoiceStatus.UNPAID:
        raise DomainError(ErrorCode.ALREADY_PAID, f"Invoice {invoice.number} is already paid.")


def ensure_chargeable(invoice: Invoice) -> None:
    """A card is charged only for a positive total."""
    if invoice.total <= 0:
        raise InvalidInput(
            "invoice_id",
            f"Invoice {invoice.number} totals {invoice.total}; there is nothing to charge.",
        )


def ensure_voidable(invoice: Invoice) -> None:
    if invoice.void:
        raise DomainError(ErrorCode.ALREADY_VOID, f"Invoice {invoice.number} is already void.")
    if invoice.status is not InvoiceStatus.UNPAID:
        raise DomainError(
            ErrorCode.ALREADY_PAID,
            f"Invoice {invoice.number} is paid and cannot be voided; refund it instead.",
        )


def ensure_sendable(invoice: Invoice) -> None:
    if invoice.void:
        raise DomainError(
            ErrorCode.ALREADY_VOID, f"Invoice {invoice.number} is void and is not sent."
        )


def ensure_refundable(invoice: Invoice) -> str:
    """The card payment to refund; refuses anything but a paid, unrefunded card payment."""
    if invoice.status is InvoiceStatus.REFUNDED:
        raise DomainError(
            ErrorCode.ALREADY_REFUNDED,
            f"Invoice {invoice.number} is already refunded ({invoice.refund_reference}).",
        )
    if invoice.status is not InvoiceStatus.PAID:
        raise DomainError(
            ErrorCode.NOT_PAID,
            f"Invoice {invoice.number} is not paid; there is nothing to refund.",
        )
    if invoice.payment_method is not PaymentMethodKind.STRIPE or not invoice.payment_reference:
        method = invoice.payment_method.value if invoice.payment_method else "an unknown method"
        raise DomainError(
            ErrorCode.NOT_REFUNDABLE,
            f"Invoice {invoice.number} was paid by {method}; only card payments are refunded here. "
            "Reverse it by hand with a credit transaction.",
        )
    return invoice.payment_reference


def actions_for(invoice: Invoice, viewer: Viewer) -> list[Action]:
    """The buttons the details modal shows this viewer now."""
    allowed = [Action.DOWNLOAD_PDF]
    if not invoice.void:
        allowed.append(Action.SEND_EMAIL)
    if is_open(invoice):
        allowed.append(Action.PAY)
    if (
        viewer.is_staff
        and invoice.status is InvoiceStatus.PAID
        and invoice.payment_method is PaymentMethodKind.STRIPE
    ):
        allowed.append(Action.REFUND)
    if viewer.is_staff and is_open(invoice):
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


def invoice_number(number_format: str, issued_at: datetime, zone: ZoneInfo, invoice_id: int) -> str:
    """INV-2025-000123: invoice.number_format, with the year it was issued in `zone`."""
    return number_format.format(year=issued_at.astimezone(zone).year, id=invoice_id)


def settling_transaction(
    invoice: Invoice, customer: Customer, kind: TransactionKind, description: str, at: datetime
) -> Transaction:
    """The transaction that settles an invoice (a PAYMENT of minus its total) or reverses
    that payment (a REFUND of its total), titled in the customer's language."""
    if kind is TransactionKind.CHARGE:
        raise ValueError("charges are billed, not settled")
    payment = kind is TransactionKind.PAYMENT
    return Transaction(
        kind=kind,
        customer_id=invoice.customer_id,
        invoice_id=invoice.id,
        title=text(
            customer.language, "payment_title" if payment else "refund_title", number=invoice.number
        ),
        description=description,
        created_at=at,
        retail_cost=-invoice.total if payment else invoice.total,
        tax_percentage=ZERO,
        tax_amount=ZERO,
    )


def pdf_filename(invoice_id: int) -> str:
    return f"Invoice_{invoice_id:05d}.pdf"


def line_totals(costs: list[Decimal], taxes: list[Decimal]) -> tuple[Decimal, Decimal, Decimal]:
    """Subtotal, tax and total: sums of the lines, each already rounded."""
    subtotal = sum(costs, Decimal("0.00"))
    tax = sum(taxes, Decimal("0.00"))
    return subtotal, tax, subtotal + tax
