"""payInvoice: by card through the CardGateway port, or recorded by hand (cash, POS, bank
transfer, refunded funds); and the payment record both make, which Stripe's webhook makes too.

Never twice: the invoice row is locked while it is paid; a keyed request is answered once
(store/idempotency.py); a card charge carries a provider idempotency key derived from the
invoice and its attempt number, so a retry after a timeout or a 5xx gets the first result
and only a definite decline moves on to a new attempt.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.config import Settings
from domain.errors import DomainError, ErrorCode, Forbidden, NotFound
from domain.model.access import Viewer
from domain.model.commands import PaymentRequest
from domain.model.entities import Customer, Invoice, PaymentMethod, Transaction
from domain.model.enums import EventKind, InvoiceStatus, PaymentMethodKind, TransactionKind
from domain.model.invoice_rules import ensure_chargeable, ensure_payable, settling_transaction
from domain.model.money import to_minor_units
from domain.model.validation import optional_text
from domain.ports import CardDeclined, CardGateway, Charge, ProviderUnavailable
from domain.rendering.links import pay_url
from domain.store import invoice_events, invoice_totals
from domain.store.database import Database
from domain.store.idempotency import IdempotencyKey, idempotent
from domain.store.invoice_events import Refusal
from domain.store.locking import customer_of, lock_invoice, visible_invoice


async def pay(
    db: Database, settings: Settings, viewer: Viewer, request: PaymentRequest, cards: CardGateway
) -> Invoice:
    """Every payment method: cards through the provider, the rest recorded by hand."""
    if request.method is PaymentMethodKind.STRIPE:
        return await pay_by_card(db, settings, viewer, request, cards)
    return await pay_by_hand(db, viewer, request)


async def pay_by_hand(db: Database, viewer: Viewer, request: PaymentRequest) -> Invoice:
    """Cash, POS, bank transfer or refunded funds, as staff record them."""
    if request.method is PaymentMethodKind.STRIPE:
        raise ValueError("card payments go through pay_by_card")
    if not viewer.is_staff:
        raise Forbidden("Customers can pay only by card (STRIPE).")
    reference = optional_text("reference", request.reference, 255)
    key = IdempotencyKey.of("payInvoice", request.idempotency_key, request, viewer)

    async def settle(session: AsyncSession) -> Invoice:
        invoice = await lock_invoice(session, viewer, request.invoice_id)
        ensure_payable(invoice)
        await record_payment(session, db, invoice, request.method, reference, viewer.name)
        return invoice

    return await idempotent(db, key, settle, lambda id: visible_invoice(db, viewer, id))


async def pay_by_card(
    db: Database, settings: Settings, viewer: Viewer, request: PaymentRequest, cards: CardGateway
) -> Invoice:
    """Charge the customer's saved card (the one given, else the default) for the invoice."""
    key = IdempotencyKey.of("payInvoice", request.idempotency_key, request, viewer)
    currency = settings.business.currency_code

    async def charge(session: AsyncSession) -> Invoice:
        invoice = await lock_invoice(session, viewer, request.invoice_id)
        ensure_payable(invoice)
        customer = await customer_of(session, invoice)
        card = await _card_to_charge(session, customer, request.payment_method_id)
        ensure_chargeable(invoice)
        attempt = await invoice_events.count(session, invoice.id, EventKind.PAYMENT_DECLINED) + 1
        try:
            intent = await cards.charge(
                Charge(
                    provider_customer_id=customer.stripe_customer_id or "",
                    payment_method_id=card.stripe_payment_method_id,
                    amount_minor=to_minor_units(invoice.total, currency),
                    currency=currency,
                    description=f"Invoice {invoice.number}",
                    metadata={
                        "invoice_id": str(invoice.id),
                        "invoice_number": invoice.number or "",
                    },
                    key=f"invoice-{invoice.id}-payment-{attempt}",
                )
            )
        except CardDeclined as declined:
            message = declined.reason
            if declined.authentication_required:
                where = pay_url(settings, invoice.id, invoice.number)
                message += f" The customer must authenticate and pay at {where}"
            error = DomainError(ErrorCode.PAYMENT_DECLINED, message)
            raise Refusal(invoice.id, EventKind.PAYMENT_DECLINED, error) from None
        except ProviderUnavailable as failure:
            error = DomainError(
                ErrorCode.PAYMENT_PROVIDER_ERROR, f"{failure} The invoice is unchanged; try again."
            )
            raise Refusal(invoice.id, EventKind.PAYMENT_FAILED, error) from None
        invoice_events.record(
            session,
            invoice.id,
            EventKind.PAYMENT_SUCCEEDED,
            viewer.name,
            f"{card.brand} ending {card.last4} charged {invoice.total}: {intent}",
        )
        await record_payment(session, db, invoice, PaymentMethodKind.STRIPE, intent, viewer.name)
        return invoice

    async with invoice_events.refusals_recorded(db, viewer.name):
        return await idempotent(db, key, charge, lambda id: visible_invoice(db, viewer, id))


async def _card_to_charge(
    session: AsyncSession, customer: Customer, payment_method_id: int | None
) -> PaymentMethod:
    query = select(PaymentMethod).where(PaymentMethod.customer_id == customer.id)
    if payment_method_id is not None:
        card = (
            await session.execute(query.where(PaymentMethod.id == payment_method_id))
        ).scalar_one_or_none()
        if card is None:
            raise NotFound("Payment method", payment_method_id, "payment_method_id")
        return card
    card = (
        (await session.execute(query.order_by(PaymentMethod.is_default.desc(), PaymentMethod.id)))
        .scalars()
        .first()
    )
    if card is None or customer.stripe_customer_id is None:
        raise DomainError(
            ErrorCode.NO_PAYMENT_METHOD,
            f"{customer.name} has no saved card. Add a credit card under Payment Methods before paying invoices.",
        )
    return card


async def record_payment(
    session: AsyncSession,
    db: Database,
    invoice: Invoice,
    method: PaymentMethodKind,
    reference: str | None,
    actor: str,
) -> Transaction:
    """Mark the invoice paid, add the negative PAYMENT transaction that settles it, and
    record it in the invoice's history."""
    customer = await customer_of(session, invoice)
    paid_at = db.now()
    description = f"{method.value}: {reference}" if reference else method.value
    payment = settling_transaction(invoice, customer, TransactionKind.PAYMENT, description, paid_at)
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
