"""refundInvoice: a full refund of a card payment, once; and the refund record, which
Stripe's webhook makes too for a refund made in Stripe's dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import DomainError, ErrorCode
from domain.model.access import Viewer, require_staff
from domain.model.commands import RefundRequest
from domain.model.entities import Invoice, Transaction
from domain.model.enums import EventKind, InvoiceStatus, TransactionKind
from domain.model.invoice_rules import ensure_refundable
from domain.model.money import ZERO
from domain.model.texts import text
from domain.ports import CardGateway, ProviderUnavailable
from domain.store import invoice_events, invoice_totals
from domain.store.database import Database
from domain.store.idempotency import IdempotencyKey, idempotent
from domain.store.locking import customer_of, lock_invoice, visible_invoice


@dataclass
class _Failed(Exception):
    invoice_id: int
    error: DomainError


async def refund_invoice(
    db: Database, viewer: Viewer, request: RefundRequest, cards: CardGateway
) -> Invoice:
    require_staff(viewer)
    key = IdempotencyKey.of("refundInvoice", request.idempotency_key, request, viewer)

    async def refund(session: AsyncSession) -> Invoice:
        invoice = await lock_invoice(session, viewer, request.invoice_id)
        payment_intent_id = ensure_refundable(invoice)
        try:
            refund_id = await cards.refund(
                payment_intent_id=payment_intent_id, key=f"invoice-{invoice.id}-refund"
            )
        except ProviderUnavailable as failure:
            error = DomainError(
                ErrorCode.PAYMENT_PROVIDER_ERROR, f"Refund failed: {failure} Nothing was changed."
            )
            raise _Failed(invoice.id, error) from None
        await apply_refund(session, db, invoice, refund_id, viewer.name)
        return invoice

    try:
        return await idempotent(db, key, refund, lambda id: visible_invoice(db, viewer, id))
    except _Failed as failed:
        await invoice_events.record_alone(
            db, failed.invoice_id, EventKind.PAYMENT_FAILED, viewer.name, failed.error.message
        )
        raise failed.error from None


async def apply_refund(
    session: AsyncSession, db: Database, invoice: Invoice, refund_id: str, actor: str
) -> None:
    """Mark a paid invoice refunded and add the REFUND transaction reversing its payment."""
    customer = await customer_of(session, invoice)
    await invoice_totals.move(session, invoice, status=InvoiceStatus.REFUNDED)
    invoice.status = InvoiceStatus.REFUNDED
    invoice.refund_reference = refund_id
    session.add(
        Transaction(
            kind=TransactionKind.REFUND,
            customer_id=invoice.customer_id,
            invoice_id=invoice.id,
            title=text(customer.language, "refund_title", number=invoice.number),
            description=refund_id,
            created_at=db.now(),
            retail_cost=invoice.total,
            tax_percentage=ZERO,
            tax_amount=ZERO,
        )
    )
    invoice_events.record(
        session, invoice.id, EventKind.REFUNDED, actor, f"{invoice.total} refunded: {refund_id}"
    )
