"""Paying invoices by card (Stripe), refunding them, and saving customers' cards.

Never twice: a card charge runs while the invoice row is locked, under a Stripe
idempotency key derived from the invoice and its attempt number. A retry after a timeout
or a 5xx reuses the key (Stripe answers with the first result); only a definite decline
moves on to a new attempt, so the customer can try again.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.numbers import get_currency_precision
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain import idempotency, invoice_events, invoice_totals
from domain.access import Viewer, require_staff
from domain.card_gateway import CardDeclined, CardGateway, ProviderUnavailable, UnknownCard
from domain.config import Settings
from domain.db import Database, utcnow
from domain.errors import DomainError, ErrorCode, InvalidInput, NotFound
from domain.invoice_events import EventKind
from domain.invoice_lifecycle import (
    PaymentRequest,
    ensure_payable,
    lock_invoice,
    pay_invoice,
    record_payment,
)
from domain.invoices import pay_url
from domain.metrics import PAYMENTS, outcome_counted
from domain.models import (
    Contact,
    ContactType,
    Customer,
    Invoice,
    InvoiceStatus,
    PaymentMethod,
    PaymentMethodKind,
    Transaction,
    TransactionKind,
)
from domain.money import ZERO
from domain.texts import text


async def pay(
    db: Database, settings: Settings, viewer: Viewer, request: PaymentRequest, gateway: CardGateway
) -> Invoice:
    """Every payment method: cards through Stripe, the rest recorded by hand."""
    with outcome_counted(PAYMENTS, method=request.method.value):
        if request.method is PaymentMethodKind.STRIPE:
            return await pay_by_card(db, settings, viewer, request, gateway)
        return await pay_invoice(db, viewer, request)


@dataclass
class _Outcome(Exception):
    """A refusal whose record must outlive the rolled-back transaction."""

    invoice_id: int
    kind: EventKind
    error: DomainError


async def pay_by_card(
    db: Database, settings: Settings, viewer: Viewer, request: PaymentRequest, gateway: CardGateway
) -> Invoice:
    key = idempotency.IdempotencyKey.of(
        "payInvoice", request.idempotency_key, {**request.__dict__, "idempotency_key": None}
    )
    if key is not None and (earlier := await idempotency.earlier_result(db, key)) is not None:
        return await _load(db, earlier)
    try:
        async with db.transaction() as session:
            claim = await idempotency.record(session, key) if key else None
            invoice = await lock_invoice(session, viewer, request.invoice_id)
            ensure_payable(invoice)
            customer = await session.get(Customer, invoice.customer_id)
            assert customer is not None
            card = await _card_to_charge(session, customer, request.payment_method_id)
            if invoice.total <= 0:
                raise InvalidInput(
                    "invoice_id",
                    f"Invoice {invoice.number} totals {invoice.total}; there is nothing to charge.",
                )
            attempt = (
                await invoice_events.count(session, invoice.id, EventKind.PAYMENT_DECLINED) + 1
            )
            digits = get_currency_precision(settings.business.currency_code)
            try:
                intent = await gateway.charge(
                    provider_customer_id=customer.stripe_customer_id or "",
                    payment_method_id=card.stripe_payment_method_id,
                    amount_minor=int(invoice.total.scaleb(digits)),
                    currency=settings.business.currency_code,
                    description=f"Invoice {invoice.number}",
                    metadata={
                        "invoice_id": str(invoice.id),
                        "invoice_number": invoice.number or "",
                    },
                    key=f"invoice-{invoice.id}-payment-{attempt}",
                )
            except CardDeclined as declined:
                message = declined.reason
                if declined.authentication_required:
                    message += (
                        f" The customer must authenticate and pay at {pay_url(settings, invoice)}"
                    )
                raise _Outcome(
                    invoice.id,
                    EventKind.PAYMENT_DECLINED,
                    DomainError(ErrorCode.PAYMENT_DECLINED, message),
                ) from None
            except ProviderUnavailable as failure:
                raise _Outcome(
                    invoice.id,
                    EventKind.PAYMENT_FAILED,
                    DomainError(
                        ErrorCode.PAYMENT_PROVIDER_ERROR,
                        f"{failure} The invoice is unchanged; try again.",
                    ),
                ) from None
            invoice_events.record(
                session,
                invoice.id,
                EventKind.PAYMENT_SUCCEEDED,
                viewer.name,
                f"{card.brand} ending {card.last4} charged {invoice.total}: {intent}",
            )
            await record_payment(session, invoice, PaymentMethodKind.STRIPE, intent, viewer.name)
            if claim is not None:
                claim.result_id = invoice.id
    except _Outcome as outcome:
        await invoice_events.record_alone(
            db, outcome.invoice_id, outcome.kind, viewer.name, outcome.error.message
        )
        raise outcome.error from None
    except IntegrityError:
        if key is None or (earlier := await idempotency.earlier_result(db, key)) is None:
            raise
        return await _load(db, earlier)
    return invoice


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


async def refund_invoice(
    db: Database, viewer: Viewer, invoice_id: int, gateway: CardGateway
) -> Invoice:
    """A full refund of a card payment, once."""
    require_staff(viewer)
    try:
        async with db.transaction() as session:
            invoice = await lock_invoice(session, viewer, invoice_id)
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
            if (
                invoice.payment_method is not PaymentMethodKind.STRIPE
                or not invoice.payment_reference
            ):
                method = (
                    invoice.payment_method.value if invoice.payment_method else "an unknown method"
                )
                raise DomainError(
                    ErrorCode.NOT_REFUNDABLE,
                    f"Invoice {invoice.number} was paid by {method}; only card payments are refunded here. "
                    "Reverse it by hand with a credit transaction.",
                )
            try:
                refund_id = await gateway.refund(
                    payment_intent_id=invoice.payment_reference, key=f"invoice-{invoice.id}-refund"
                )
            except ProviderUnavailable as failure:
                raise _Outcome(
                    invoice.id,
                    EventKind.PAYMENT_FAILED,
                    DomainError(
                        ErrorCode.PAYMENT_PROVIDER_ERROR,
                        f"Refund failed: {failure} Nothing was changed.",
                    ),
                ) from None
            await apply_refund(session, invoice, refund_id, viewer.name)
    except _Outcome as outcome:
        await invoice_events.record_alone(
            db, outcome.invoice_id, outcome.kind, viewer.name, outcome.error.message
        )
        raise outcome.error from None
    return invoice


async def apply_refund(session: AsyncSession, invoice: Invoice, refund_id: str, actor: str) -> None:
    """Mark a paid invoice refunded and add the REFUND transaction reversing its payment."""
    customer = await session.get(Customer, invoice.customer_id)
    assert customer is not None
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
            created_at=utcnow(),
            retail_cost=invoice.total,
            tax_percentage=ZERO,
            tax_amount=ZERO,
        )
    )
    invoice_events.record(
        session, invoice.id, EventKind.REFUNDED, actor, f"{invoice.total} refunded: {refund_id}"
    )


async def attach_payment_method(
    db: Database,
    viewer: Viewer,
    customer_id: int,
    stripe_payment_method_id: str,
    make_default: bool,
    gateway: CardGateway,
) -> Customer:
    """Save a card that exists at Stripe; the customer's first card becomes the default."""
    if not viewer.can_see_customer(customer_id):
        raise NotFound("Customer", customer_id, "customer_id")
    try:
        card = await gateway.lookup_card(stripe_payment_method_id.strip())
    except UnknownCard as unknown:
        raise InvalidInput("stripe_payment_method_id", str(unknown)) from None
    except ProviderUnavailable as failure:
        raise DomainError(ErrorCode.PAYMENT_PROVIDER_ERROR, str(failure)) from None
    async with db.transaction() as session:
        customer = (
            await session.execute(
                select(Customer).where(Customer.id == customer_id).with_for_update()
            )
        ).scalar_one_or_none()
        if customer is None:
            raise NotFound("Customer", customer_id, "customer_id")
        existing = (
            await session.execute(
                select(PaymentMethod).where(PaymentMethod.stripe_payment_method_id == card.id)
            )
        ).scalar_one_or_none()
        if existing is not None and existing.customer_id != customer.id:
            raise InvalidInput("stripe_payment_method_id", "That card belongs to another customer.")
        try:
            if customer.stripe_customer_id is None:
                email = (
                    (
                        await session.execute(
                            select(Contact.email)
                            .where(Contact.customer_id == customer.id)
                            .order_by((Contact.type == ContactType.BILLING).desc(), Contact.id)
                        )
                    )
                    .scalars()
                    .first()
                )
                customer.stripe_customer_id = await gateway.create_customer(
                    name=customer.name, email=email
                )
            if existing is None:
                await gateway.attach_card(card.id, customer.stripe_customer_id)
        except (CardDeclined, UnknownCard) as refused:
            raise InvalidInput("stripe_payment_method_id", str(refused)) from None
        except ProviderUnavailable as failure:
            raise DomainError(ErrorCode.PAYMENT_PROVIDER_ERROR, str(failure)) from None
        others = (
            (
                await session.execute(
                    select(PaymentMethod.id).where(PaymentMethod.customer_id == customer.id)
                )
            )
            .scalars()
            .all()
        )
        method = existing or PaymentMethod(
            customer_id=customer.id, stripe_payment_method_id=card.id
        )
        method.brand, method.last4, method.exp_month, method.exp_year = (
            card.brand,
            card.last4,
            card.exp_month,
            card.exp_year,
        )
        first = not [other for other in others if existing is None or other != existing.id]
        if make_default or first:
            await session.execute(
                update(PaymentMethod)
                .where(PaymentMethod.customer_id == customer.id)
                .values(is_default=False)
            )
            method.is_default = True
        session.add(method)
    return customer


async def _load(db: Database, invoice_id: int) -> Invoice:
    async with db.read() as session:
        invoice = await session.get(Invoice, invoice_id)
    assert invoice is not None
    return invoice
