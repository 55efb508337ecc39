"""What happens to an issued invoice: voided, or paid by hand (cash, POS, bank transfer,
refunded funds). Each change locks the invoice row, so two racing requests cannot both
pay or both void it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain import idempotency, invoice_events, invoice_totals
from domain.access import Viewer, require_staff
from domain.db import Database, utcnow
from domain.errors import DomainError, ErrorCode, Forbidden, NotFound
from domain.invoice_events import EventKind
from domain.models import (
    Customer,
    Invoice,
    InvoiceStatus,
    PaymentMethodKind,
    Transaction,
    TransactionKind,
)
from domain.money import ZERO
from domain.texts import text
from domain.validation import optional_text


async def lock_invoice(session: AsyncSession, viewer: Viewer, invoice_id: int) -> Invoice:
    """The invoice, row-locked for this transaction; NOT_FOUND if the viewer may not see it."""
    invoice = (
        await session.execute(
            select(Invoice)
            .where(Invoice.id == invoice_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if invoice is None or not viewer.can_see_customer(invoice.customer_id):
        raise NotFound("Invoice", invoice_id, "id")
    return invoice


def ensure_payable(invoice: Invoice) -> None:
    if invoice.void:
        raise DomainError(ErrorCode.ALREADY_VOID, f"Invoice {invoice.number} is void.")
    if invoice.status is not InvoiceStatus.UNPAID:
        raise DomainError(ErrorCode.ALREADY_PAID, f"Invoice {invoice.number} is already paid.")


async def void_invoice(db: Database, viewer: Viewer, invoice_id: int) -> Invoice:
    """ "This invoice should never have existed": its charges become unbilled again."""
    require_staff(viewer)
    async with db.transaction() as session:
        invoice = await lock_invoice(session, viewer, invoice_id)
        if invoice.void:
            raise DomainError(ErrorCode.ALREADY_VOID, f"Invoice {invoice.number} is already void.")
        if invoice.status is not InvoiceStatus.UNPAID:
            raise DomainError(
                ErrorCode.ALREADY_PAID,
                f"Invoice {invoice.number} is paid and cannot be voided; refund it instead.",
            )
        customer = await session.get(Customer, invoice.customer_id)
        assert customer is not None
        await invoice_totals.move(session, invoice, void=True)
        invoice.void = True
        invoice.voided_at = utcnow()
        invoice.title = text(customer.language, "void_prefix") + invoice.title
        await session.execute(
            update(Transaction)
            .where(Transaction.invoice_id == invoice.id, Transaction.kind == TransactionKind.CHARGE)
            .values(invoice_id=None)
            .execution_options(synchronize_session=False)
        )
        invoice_events.record(
            session,
            invoice.id,
            EventKind.VOIDED,
            viewer.name,
            "its transactions are unbilled again",
        )
    return invoice


@dataclass(frozen=True)
class PaymentRequest:
    invoice_id: int
    method: PaymentMethodKind
    reference: str | None = None
    payment_method_id: int | None = None
    idempotency_key: str | None = None


async def record_payment(
    session: AsyncSession,
    invoice: Invoice,
    method: PaymentMethodKind,
    reference: str | None,
    actor: str,
) -> Transaction:
    """Mark the invoice paid, add the negative PAYMENT transaction that settles it, and
    record it in the invoice's history."""
    customer = await session.get(Customer, invoice.customer_id)
    assert customer is not None
    paid_at = utcnow()
    payment = Transaction(
        kind=TransactionKind.PAYMENT,
        customer_id=invoice.customer_id,
        invoice_id=invoice.id,
        title=text(customer.language, "payment_title", number=invoice.number),
        description=f"{method.value}: {reference}" if reference else method.value,
        created_at=paid_at,
        retail_cost=-invoice.total,
        tax_percentage=ZERO,
        tax_amount=ZERO,
    )
    session.add(payment)
    await invoice_totals.move(session, invoice, status=InvoiceStatus.PAID)
    invoice.status = InvoiceStatus.PAID
    invoice.paid_at = paid_at
    invoice.payment_method = method
    invoice.payment_reference = reference
    invoice_events.record(
        session,
        invoice.id,
        EventKind.PAID,
        actor,
        f"{method.value} {invoice.total}" + (f": {reference}" if reference else ""),
    )
    return payment


async def pay_invoice(db: Database, viewer: Viewer, request: PaymentRequest) -> Invoice:
    """Manual payments (staff only); cards are paid through domain.payments."""
    if request.method is PaymentMethodKind.STRIPE:
        raise ValueError("card payments go through domain.payments.pay")
    if not viewer.is_staff:
        raise Forbidden("Customers can pay only by card (STRIPE).")
    reference = optional_text("reference", request.reference, 255)
    key = idempotency.IdempotencyKey.of(
        "payInvoice", request.idempotency_key, {**request.__dict__, "idempotency_key": None}
    )
    if key is not None and (earlier := await idempotency.earlier_result(db, key)) is not None:
        return await _visible_invoice(db, viewer, earlier)
    try:
        async with db.transaction() as session:
            claim = await idempotency.record(session, key) if key else None
            invoice = await lock_invoice(session, viewer, request.invoice_id)
            ensure_payable(invoice)
            await record_payment(session, invoice, request.method, reference, viewer.name)
            if claim is not None:
                claim.result_id = invoice.id
    except IntegrityError:
        if key is None or (earlier := await idempotency.earlier_result(db, key)) is None:
            raise
        return await _visible_invoice(db, viewer, earlier)
    return invoice


async def _visible_invoice(db: Database, viewer: Viewer, invoice_id: int) -> Invoice:
    async with db.read() as session:
        invoice = await session.get(Invoice, invoice_id)
    if invoice is None or not viewer.can_see_customer(invoice.customer_id):
        raise NotFound("Invoice", invoice_id, "invoice_id")
    return invoice
