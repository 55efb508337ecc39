"""payInvoice by hand: cash, POS, bank transfer or refunded funds, as staff record them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Forbidden
from domain.model.access import Viewer
from domain.model.commands import PaymentRequest
from domain.model.entities import Invoice
from domain.model.enums import PaymentMethodKind
from domain.model.invoice_rules import ensure_no_open_attempt, ensure_payable
from domain.model.payments import payment_amount
from domain.model.validation import optional_text
from domain.services.payments.record import record_payment
from domain.store import attempts
from domain.store.database import Database
from domain.store.idempotency import IdempotencyKey, idempotent
from domain.store.locking import lock_invoice, visible_invoice


async def pay_by_hand(db: Database, viewer: Viewer, request: PaymentRequest) -> Invoice:
    """Cash, POS, bank transfer or refunded funds, as staff record them: everything due,
    or `request.amount` of it; a credit note is settled this way, by returning its funds
    (REFUND)."""
    if request.method is PaymentMethodKind.STRIPE:
        raise ValueError("card payments go through pay_by_card")
    if not viewer.is_staff:
        raise Forbidden("Customers can pay only by card (STRIPE).")
    reference = optional_text("reference", request.reference, 255)
    key = IdempotencyKey.of("payInvoice", request.idempotency_key, request, viewer)

    async def settle_by_hand(session: AsyncSession) -> Invoice:
        invoice = await lock_invoice(session, viewer, request.invoice_id, "invoice_id")
        ensure_payable(invoice, request.method)
        ensure_no_open_attempt(invoice, await attempts.open_count(session, invoice.id))
        amount = payment_amount(invoice, request.amount)
        await record_payment(session, db, invoice, request.method, reference, viewer, amount)
        return invoice

    return await idempotent(db, key, settle_by_hand, lambda id: visible_invoice(db, viewer, id))
