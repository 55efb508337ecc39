"""How money that moved is booked: a payment received (the invoice PAID once nothing is
left due), and a refund given back against the payment it returns."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from domain.model.access import Actor
from domain.model.dunning import next_due_date
from domain.model.entities import Invoice, Payment
from domain.model.enums import EventKind, InvoiceStatus, PaymentMethodKind, TransactionKind
from domain.model.invoice_rules import settling_transaction
from domain.model.payments import allocate, amount_due
from domain.store import invoice_events, invoice_totals, receivable_totals
from domain.store.database import Database
from domain.store.locking import customer_of
from domain.store.payments import installments_of


async def record_payment(
    session: AsyncSession,
    db: Database,
    invoice: Invoice,
    method: PaymentMethodKind,
    reference: str | None,
    actor: Actor,
    amount: Decimal | None = None,
) -> Payment:
    """Book a payment of `amount` (everything due when None; the caller checked it with
    model/payments.py `payment_amount`): the payment, the transaction that settles it (a
    PAYMENT; for a credit note, the REFUND of the funds it owes), the plan's installments
    it fills, and the invoice PAID once nothing is left due. The invoice's row is locked."""
    amount = amount_due(invoice) if amount is None else amount
    before = receivable_totals.share(invoice)
    customer = await customer_of(session, invoice)
    paid_at = db.now()
    description = f"{method.value}: {reference}" if reference else method.value
    kind = TransactionKind.REFUND if invoice.total < 0 else TransactionKind.PAYMENT
    session.add(settling_transaction(invoice, customer, kind, description, paid_at, amount))
    payment = Payment(
        invoice_id=invoice.id,
        amount=amount,
        method=method,
        reference=reference,
        paid_at=paid_at,
        refunded_amount=Decimal("0.00"),
    )
    session.add(payment)
    await invoice_totals.add_paid(session, invoice, amount)
    invoice.amount_paid += amount
    plan = await installments_of(session, invoice.id)
    allocate(plan, amount)
    invoice.next_due_date = next_due_date(invoice.due_date, plan)
    said = f"{method.value} {amount}" + (f": {reference}" if reference else "")
    if invoice.amount_paid != invoice.total:
        left = invoice.total - invoice.amount_paid
        invoice_events.record(
            session, invoice.id, EventKind.PART_PAID, actor, f"{said}; {left} still due"
        )
        await receivable_totals.follow(session, before, invoice)
        return payment
    await invoice_totals.move(session, invoice, status=InvoiceStatus.PAID)
    invoice.status = InvoiceStatus.PAID
    invoice.paid_at = paid_at
    invoice.payment_method = method
    invoice.payment_reference = reference
    invoice_events.record(session, invoice.id, EventKind.PAID, actor, said)
    await receivable_totals.follow(session, before, invoice)
    return payment


async def apply_refund(
    session: AsyncSession,
    db: Database,
    invoice: Invoice,
    payment: Payment,
    amount: Decimal,
    refund_id: str,
    actor: Actor,
) -> None:
    """Record `amount` of `payment` returned to the customer of a paid invoice: a REFUND
    transaction; the invoice is REFUNDED once all its payments are given back."""
    customer = await customer_of(session, invoice)
    payment.refunded_amount += amount
    payment.refund_reference = refund_id
    invoice.refunded_amount += amount
    invoice.refund_reference = refund_id
    whole = invoice.refunded_amount >= invoice.amount_paid
    if whole:
        await invoice_totals.move(session, invoice, status=InvoiceStatus.REFUNDED)
        invoice.status = InvoiceStatus.REFUNDED
    session.add(
        settling_transaction(
            invoice, customer, TransactionKind.REFUND, refund_id, db.now(), amount=amount
        )
    )
    detail = "" if whole else f" (partial: {invoice.refunded_amount} of {invoice.amount_paid})"
    invoice_events.record(
        session, invoice.id, EventKind.REFUNDED, actor, f"{amount} refunded: {refund_id}{detail}"
    )
