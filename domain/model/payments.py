"""The rules of amounts, without I/O: what an invoice still asks, what one payment of it
may be, what a payment plan must look like, and how payments fill a plan's installments.

    total ── payments (any method, each at most what is due) ──> amount_paid
    amount due = total - amount_paid while the invoice is open; PAID once nothing is due

A plan splits what is due when it is made into installments with increasing due dates;
every later payment fills them in order, so "the next installment" is the first one not
filled yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.errors import DomainError, ErrorCode
from domain.model.entities import Installment, Invoice, Payment
from domain.model.enums import InvoiceStatus, PaymentMethodKind
from domain.model.invoice_rules import InvoiceFacts, is_credit_note, is_open
from domain.model.money import ZERO, card_chargeable, round_money

MAX_INSTALLMENTS = 60


def amount_due(invoice: InvoiceFacts) -> Decimal:
    """What the customer still owes: the total less what was paid while the invoice is
    open (for a credit note, what is still to be returned: below zero); nothing once it is
    paid, refunded or void."""
    if not is_open(invoice):
        return ZERO
    return invoice.total - invoice.amount_paid


def is_part_paid(invoice: Invoice) -> bool:
    return is_open(invoice) and invoice.amount_paid != 0


def _ensure_exact(amount: Decimal, currency: str, field: str) -> None:
    if not amount.is_finite() or amount != round_money(amount, currency):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"{amount} is not an amount in {currency}: it has more decimals than the currency.",
            field,
        )


def payment_amount(invoice: Invoice, requested: Decimal | None) -> Decimal:
    """What one payment of the invoice is: `requested`, or everything due when None. A
    payment is above zero and at most what is due; a credit note is settled whole."""
    due = amount_due(invoice)
    if requested is None:
        return due
    _ensure_exact(requested, invoice.currency, "amount")
    if is_credit_note(invoice.total):
        if requested != due:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"{invoice.number} is a credit note: its funds ({due}) are returned whole.",
                "amount",
            )
        return due
    if requested <= 0:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"A payment must be above zero, not {requested}.", "amount"
        )
    if requested > due:
        raise DomainError(
            ErrorCode.AMOUNT_ABOVE_DUE,
            f"{requested} is more than the {due} due on invoice {invoice.number}; "
            "nothing was paid.",
            "amount",
        )
    return requested


def ensure_card_chargeable(amount: Decimal, currency: str) -> None:
    """The card provider takes a three-decimal currency in tens (12.340 KWD, not 12.345):
    an amount it cannot take exactly is refused before anything is asked of it."""
    if not card_chargeable(amount, currency):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"{amount} {currency} cannot be charged by card: the card provider takes "
            f"{currency} in whole tens of its minor unit X; pay the rest by hand.",
            "amount",
        )


@dataclass(frozen=True)
class PlannedInstallment:
    due_date: date
    amount: Decimal


def ensure_plan(invoice: Invoice, planned: Sequence[PlannedInstallment], today: date) -> None:
    """A plan must split exactly what is due now into installments above zero, due on
    increasing dates from today on."""
    due = amount_due(invoice)
    if due <= 0:
        raise DomainError(
            ErrorCode.NOT_PAYABLE,
            f"Invoice {invoice.number} has nothing due; there is nothing to plan.",
        )
    if not 1 <= len(planned) <= MAX_INSTALLMENTS:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"A payment plan has 1 to {MAX_INSTALLMENTS} installments, not {len(planned)}.",
            "installments",
        )
    previous: date | None = None
    for index, part in enumerate(planned):
        field = f"installments.{index}"
        _ensure_exact(part.amount, invoice.currency, f"{field}.amount")
        if part.amount <= 0:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"Installment {index + 1} must be above zero, not {part.amount}.",
                f"{field}.amount",
            )
        if part.due_date < today:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"Installment {index + 1} is due {part.due_date}, before today ({today}).",
                f"{field}.dueDate",
            )
        if previous is not None and part.due_date <= previous:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"Installment {index + 1} is due {part.due_date}, not after the one before "
                f"it ({previous}): due dates must increase.",
                f"{field}.dueDate",
            )
        previous = part.due_date
    planned_total = sum((part.amount for part in planned), ZERO)
    if planned_total != due:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"The installments add up to {planned_total}; invoice {invoice.number} has {due} due.",
            "installments",
        )


def allocate(installments: Sequence[Installment], amount: Decimal) -> None:
    """Fill the installments in order with a payment of `amount`."""
    left = amount
    for part in installments:
        if left <= 0:
            return
        room = part.amount - part.amount_paid
        taken = min(room, left)
        if taken > 0:
            part.amount_paid += taken
            left -= taken


def next_installment(installments: Sequence[Installment]) -> Installment | None:
    """The first installment not filled yet: what the pay page asks for."""
    return next((part for part in installments if part.amount_paid < part.amount), None)


def installment_left(part: Installment) -> Decimal:
    return part.amount - part.amount_paid


def asked_online(
    invoice: Invoice, installments: Sequence[Installment], everything: bool
) -> Decimal:
    """What the pay page charges: the rest of the next installment of a plan (unless the
    customer chose to pay everything due), else everything due."""
    due = amount_due(invoice)
    upcoming = None if everything else next_installment(installments)
    if upcoming is None:
        return due
    return min(installment_left(upcoming), due)


def payment_to_refund(
    invoice: Invoice, payments: Sequence[Payment], payment_id: int | None
) -> Payment:
    """The card payment of a paid invoice to give back the rest of: the one named, else
    the latest with money left; refuses anything else."""
    if invoice.status is InvoiceStatus.REFUNDED:
        raise DomainError(
            ErrorCode.ALREADY_REFUNDED,
            f"Invoice {invoice.number} is already refunded ({invoice.refund_reference}).",
        )
    if invoice.status is not InvoiceStatus.PAID:
        raise DomainError(
            ErrorCode.NOT_PAID,
            f"Invoice {invoice.number} is not paid in full; there is nothing to refund.",
        )
    if payment_id is not None:
        named = [payment for payment in payments if payment.id == payment_id]
        if not named:
            raise DomainError(
                ErrorCode.NOT_FOUND,
                f"Invoice {invoice.number} has no payment {payment_id}.",
                "paymentId",
            )
        candidates = named
    else:
        candidates = [p for p in reversed(payments) if p.refunded_amount < p.amount]
    for payment in candidates:
        if payment.method is PaymentMethodKind.STRIPE and payment.reference:
            if payment.refunded_amount >= payment.amount:
                raise DomainError(
                    ErrorCode.ALREADY_REFUNDED,
                    f"Payment {payment.reference} of invoice {invoice.number} is already refunded.",
                )
            return payment
    methods = sorted({payment.method.value for payment in candidates}) or ["an unknown method"]
    raise DomainError(
        ErrorCode.NOT_REFUNDABLE,
        f"Invoice {invoice.number} was paid by {', '.join(methods)}; only card payments are "
        "refunded here. Reverse it by hand with a credit transaction.",
    )
