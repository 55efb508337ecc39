"""refundInvoice: a full refund of a card payment, once; and the refund record, which
Stripe's webhook makes too for a refund made in Stripe's dashboard."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import DomainError, ErrorCode
from domain.model.access import Viewer, require_staff
from domain.model.commands import RefundRequest
from domain.model.entities import Invoice
from domain.model.enums import EventKind, InvoiceStatus, TransactionKind
from domain.model.invoice_rules import ensure_refundable, settling_transaction
from domain.ports import CardGateway, ProviderUnavailable
from domain.store import invoice_events, invoice_totals
from domain.store.database import Database
from domain.store.idempotency import IdempotencyKey, idempotent
from domain.store.invoice_events import Refusal
from domain.store.locking import customer_of, lock_invoice, visible_invoice


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
            raise Refusal(invoice.id, EventKind.PAYMENT_FAILED, error) from None
        await apply_refund(session, db, invoice, refund_id, viewer.name)
        return invoice

    async with invoice_events.refusals_recorded(db, viewer.name):
        return await idempotent(db, key, refund, lambda id: visible_invoice(db, viewer, id))


async def apply_refund(
    session: AsyncSession, db: Database, invoice: Invoice, refund_id: str, actor: str
) -> None:
    """Mark a paid invoice refunded and add the REFUND transaction reversing its payment."""
    customer = await customer_of(session, invoice)
    await invoice_totals.move(session, invoice, status=InvoiceStatus.REFUNDED)
    invoice.status = InvoiceStatus.REFUNDED
    invoice.refund_reference = refund_id
    session.add(
        settling_transaction(invoice, customer, TransactionKind.REFUND, refund_id, db.now())
    )
    invoice_events.record(
        session, invoice.id, EventKind.REFUNDED, actor, f"{invoice.total} refunded: {refund_id}"
    )
