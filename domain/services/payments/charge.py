"""payInvoice by a saved card, through the CardGateway port, never holding a database
transaction while the provider answers:

    1. claim    one short transaction: the request's idempotency key, the invoice row
                (refused at once if it is not payable or another attempt is open), a
                PENDING payment attempt carrying the provider's idempotency key
    2. charge   the provider call, no transaction open
    3. settle   a second short transaction (settle.py): paid, declined, or
                still pending (a `processing` payment, or an answer lost on the way back,
                settled later by asking the provider, never by charging again)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.config import Settings
from domain.errors import DomainError, ErrorCode, NotFound
from domain.model.access import Viewer
from domain.model.commands import PaymentRequest
from domain.model.entities import Customer, Invoice, PaymentAttempt, PaymentMethod
from domain.model.enums import AttemptKind, AttemptState, EventKind, PaymentMethodKind
from domain.model.invoice_rules import ensure_no_open_attempt, ensure_payable
from domain.model.money import to_minor_units
from domain.model.payments import ensure_card_chargeable, payment_amount
from domain.ports import (
    CardDeclined,
    CardGateway,
    Charge,
    Metrics,
    ProviderRejected,
    ProviderUnavailable,
)
from domain.rendering.links import pay_url
from domain.services.payments.claim import Claimed
from domain.services.payments.reconcile import reconcile_open
from domain.services.payments.settle import (
    close_attempt,
    rejected,
    settle,
    unconfirmed,
)
from domain.store import attempts, invoice_events
from domain.store.database import Database
from domain.store.deployment import key_prefix, link_secret
from domain.store.idempotency import IdempotencyKey, idempotent
from domain.store.locking import customer_of, lock_invoice, visible_invoice


@dataclass
class _Claim(Claimed):
    """The charge to make (none on a replay)."""

    charge: Charge | None = None


async def pay_by_card(
    db: Database,
    settings: Settings,
    viewer: Viewer,
    request: PaymentRequest,
    cards: CardGateway,
    metrics: Metrics,
) -> Invoice:
    """Charge the customer's saved card (the one given, else the default) for what the
    invoice has due, or `request.amount` of it."""
    key = IdempotencyKey.of("payInvoice", request.idempotency_key, request, viewer)
    prefix = await key_prefix(db, settings)
    # An attempt left open (a lost answer) is settled by asking the provider first.
    await _reconcile_visible(db, settings, metrics, cards, viewer, request.invoice_id)

    async def claim(session: AsyncSession) -> _Claim:
        invoice = await lock_invoice(session, viewer, request.invoice_id, "invoice_id")
        ensure_payable(invoice, PaymentMethodKind.STRIPE)
        ensure_no_open_attempt(invoice, await attempts.open_count(session, invoice.id))
        customer = await customer_of(session, invoice)
        card = await _card_to_charge(session, customer, request.payment_method_id)
        amount = payment_amount(invoice, request.amount)
        ensure_card_chargeable(amount, invoice.currency)
        attempt = await attempts.claim(
            session,
            db,
            invoice,
            AttemptKind.CHARGE,
            amount,
            viewer,
            prefix,
            card.id,
        )
        return _Claim(invoice, attempt.id, _charge_of(invoice, customer, card, attempt))

    async def answer_again(invoice_id: int) -> _Claim:
        await _reconcile_visible(db, settings, metrics, cards, viewer, invoice_id)
        invoice = await visible_invoice(db, viewer, invoice_id)
        # Stripe has no trace of the charge yet (it failed before charging, or the call is
        # lost): the same request again, under the attempt's own key, so Stripe performs it
        # once or answers what it did. Never a new key, never silence.
        return await _unsettled_charge(db, invoice) or _Claim(invoice)

    claimed = await idempotent(db, key, claim, answer_again)
    if claimed.attempt_id is None or claimed.charge is None:
        return claimed.invoice
    return await _charge(db, settings, metrics, cards, viewer, claimed)


def _charge_of(
    invoice: Invoice, customer: Customer, card: PaymentMethod, attempt: PaymentAttempt
) -> Charge:
    """The provider request of a charge attempt: the same every time it is sent, as
    Stripe's idempotency keys require."""
    return Charge(
        provider_customer_id=customer.stripe_customer_id or "",
        payment_method_id=card.stripe_payment_method_id,
        amount_minor=to_minor_units(attempt.amount, attempt.currency),
        currency=attempt.currency,
        description=f"Invoice {invoice.number}",
        metadata={"invoice_id": str(invoice.id), "invoice_number": invoice.number or ""},
        key=attempt.provider_key,
    )


async def _unsettled_charge(db: Database, invoice: Invoice) -> _Claim | None:
    """The invoice's card charge still open after asking the provider, to send again."""
    async with db.read() as session:
        found = await attempts.open_in(session, invoice.id)
        charges = [a for a in found if a.kind is AttemptKind.CHARGE and a.payment_method_id]
        if not charges:
            return None
        attempt = charges[-1]
        card = await session.get(PaymentMethod, attempt.payment_method_id)
        customer = await session.get(Customer, invoice.customer_id)
    if card is None or customer is None:
        return None
    return _Claim(invoice, attempt.id, _charge_of(invoice, customer, card, attempt))


async def _charge(
    db: Database,
    settings: Settings,
    metrics: Metrics,
    cards: CardGateway,
    viewer: Viewer,
    claimed: _Claim,
) -> Invoice:
    assert claimed.attempt_id is not None and claimed.charge is not None
    invoice = claimed.invoice
    try:
        result = await cards.charge(claimed.charge)
    except CardDeclined as declined:
        message = declined.reason
        if declined.authentication_required:
            secret = await link_secret(db, settings)
            today = db.now().date()
            where = pay_url(settings, secret, invoice.id, invoice.number, invoice.due_date, today)
            message += f" The customer must authenticate and pay at {where}"
        await close_attempt(
            db,
            claimed.attempt_id,
            AttemptState.DECLINED,
            EventKind.PAYMENT_DECLINED,
            viewer,
            message,
            declined.provider_ref,
        )
        raise DomainError(ErrorCode.PAYMENT_DECLINED, message) from None
    except ProviderRejected as refusal:
        message = f"{refusal} Nothing was charged; an operator must look at the payment setup."
        raise await rejected(db, claimed.attempt_id, viewer, message) from None
    except ProviderUnavailable as failure:
        message = (
            f"{failure} Whether the card was charged is being confirmed with the provider; "
            "the invoice shows the outcome shortly. Try again in a minute if it is still unpaid."
        )
        raise await unconfirmed(db, invoice.id, viewer, message) from None
    settled = await settle(db, metrics, claimed.attempt_id, result, viewer)
    if settled.outcome == "pending":
        await invoice_events.record_alone(
            db,
            invoice.id,
            EventKind.PAYMENT_PENDING,
            viewer,
            f"{result.provider_ref} is processing; the invoice is paid once it succeeds",
        )
    elif settled.outcome == "declined":
        raise DomainError(ErrorCode.PAYMENT_DECLINED, result.reason or "The payment failed.")
    return settled.invoice


async def _reconcile_visible(
    db: Database,
    settings: Settings,
    metrics: Metrics,
    cards: CardGateway,
    viewer: Viewer,
    invoice_id: int,
) -> None:
    async with db.read() as session:
        invoice = await session.get(Invoice, invoice_id)
    if invoice is not None and viewer.can_see_customer(invoice.customer_id):
        await reconcile_open(db, settings, metrics, cards, invoice_id, viewer)


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
