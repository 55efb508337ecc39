"""The invoice page's pay button: a Stripe Checkout session for what the invoice asks (the
next installment of a payment plan, or everything due), so a customer without a saved
card pays from the emailed link. The one payment path, as for a
saved card (charge.py):

    1. claim    one short transaction: the invoice row (refused if it is not payable, or
                if a card payment or refund of it is in flight); a CHECKOUT attempt whose
                idempotency key the session is created under, or the attempt of a session
                still open, whose page the customer is sent back to (a second press)
    2. create   the provider call, no transaction open
    3. note     a second short transaction: the session's id and page on the attempt

The money arrives later, by webhook (`checkout.session.completed`, its PaymentIntent's
`payment_intent.succeeded`: services/stripe_events.py) or, when a webhook is lost, by the
reconciler asking the provider for the session (reconcile.py); each settles the
attempt once, checked against its amount and currency. An open checkout does not stop
staff from recording a payment: a checkout completed for an invoice already paid is given
back to the customer (give_back.py), never kept as a second payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.config import Settings
from domain.errors import DomainError, ErrorCode
from domain.model.access import SYSTEM
from domain.model.entities import PaymentAttempt
from domain.model.enums import AttemptKind, AttemptState, EventKind, PaymentMethodKind
from domain.model.invoice_rules import ensure_no_open_attempt, ensure_payable
from domain.model.money import to_minor_units
from domain.model.payments import asked_online, ensure_card_chargeable
from domain.ports import CardGateway, CheckoutRequest, ProviderRejected, ProviderUnavailable
from domain.services.payments.settle import (
    close_attempt,
    rejected,
)
from domain.store import attempts, invoice_events
from domain.store.database import Database
from domain.store.deployment import key_prefix
from domain.store.locking import customer_of, lock_invoice
from domain.store.payments import installments_of

# Who opened it, as the invoice's history says: whoever holds the invoice's link.
PAGE = "invoice page"
# A session about to stop taking payment is not handed out again: a new one is opened.
STILL_OPEN_FOR = timedelta(minutes=5)


@dataclass(frozen=True)
class _Claimed:
    """An open session's page to send the customer back to, or a new one to create."""

    url: str | None = None
    attempt_id: int | None = None
    request: CheckoutRequest | None = None


async def open_checkout(
    db: Database,
    settings: Settings,
    cards: CardGateway,
    invoice_id: int,
    page_url: str,
    everything: bool = False,
) -> str:
    """The provider's payment page for what the invoice asks now: the next installment of
    its payment plan (everything due, if the customer chose so), or everything due;
    DomainError if the invoice cannot be paid online now."""
    if not settings.stripe.configured:
        raise DomainError(ErrorCode.NOT_PAYABLE, "Paying online is not set up here.")
    prefix = await key_prefix(db, settings)

    async with db.transaction() as session:
        claimed = await _claim(session, db, settings, invoice_id, page_url, prefix, everything)
    if claimed.url is not None:
        return claimed.url
    assert claimed.attempt_id is not None and claimed.request is not None
    try:
        opened = await cards.create_checkout(claimed.request)
    except ProviderRejected as refusal:
        message = f"{refusal} Nothing was charged; an operator must look at the payment setup."
        raise await rejected(db, claimed.attempt_id, PAGE, message) from None
    except ProviderUnavailable as failure:
        # Nobody received the page's address, so nobody can pay on it: the attempt ends,
        # and the next press opens a new session under a new key.
        message = f"{failure} No payment page was opened; the customer may try again."
        await close_attempt(
            db, claimed.attempt_id, AttemptState.FAILED, EventKind.PAYMENT_FAILED, PAGE, message
        )
        raise DomainError(
            ErrorCode.PAYMENT_PROVIDER_ERROR,
            "The payment provider did not answer; try again in a minute.",
        ) from None
    async with db.transaction() as session:
        await session.execute(
            update(PaymentAttempt)
            .where(
                PaymentAttempt.id == claimed.attempt_id,
                PaymentAttempt.state == AttemptState.PENDING,
            )
            .values(provider_ref=opened.session_id, checkout_url=opened.url)
            .execution_options(synchronize_session=False)
        )
        attempt = await session.get(PaymentAttempt, claimed.attempt_id)
        assert attempt is not None  # attempts are never deleted
        invoice_events.record(
            session,
            attempt.invoice_id,
            EventKind.PAYMENT_PENDING,
            PAGE,
            f"checkout {opened.session_id} opened for {attempt.amount} {attempt.currency}, "
            f"open until {claimed.request.expires_at:%Y-%m-%d %H:%M} UTC",
        )
    return opened.url


async def _claim(
    session: AsyncSession,
    db: Database,
    settings: Settings,
    invoice_id: int,
    page_url: str,
    prefix: str,
    everything: bool,
) -> _Claimed:
    invoice = await lock_invoice(session, SYSTEM, invoice_id)
    ensure_payable(invoice, PaymentMethodKind.STRIPE)
    amount = asked_online(invoice, await installments_of(session, invoice.id), everything)
    ensure_card_chargeable(amount, invoice.currency)
    now = db.now()
    for attempt in await attempts.open_in(session, invoice.id):
        if attempt.kind is not AttemptKind.CHECKOUT:
            ensure_no_open_attempt(invoice, 1)  # a card payment or refund is in flight
        elif (
            attempt.checkout_url
            and attempt.expires_at is not None
            and attempt.expires_at > now + STILL_OPEN_FOR
            and attempt.amount == amount
        ):
            return _Claimed(url=attempt.checkout_url)
    customer = await customer_of(session, invoice)
    attempt = await attempts.claim(session, db, invoice, AttemptKind.CHECKOUT, amount, PAGE, prefix)
    expires = now + timedelta(minutes=settings.stripe.checkout_minutes)
    attempt.expires_at = expires
    separator = "&" if "?" in page_url else "?"
    request = CheckoutRequest(
        amount_minor=to_minor_units(amount, invoice.currency),
        currency=invoice.currency,
        description=f"Invoice {invoice.number}",
        metadata={"invoice_id": str(invoice.id), "invoice_number": invoice.number or ""},
        key=attempt.provider_key,
        success_url=f"{page_url}{separator}checkout=done",
        cancel_url=f"{page_url}{separator}checkout=cancelled",
        expires_at=expires,
        provider_customer_id=customer.stripe_customer_id,
    )
    return _Claimed(attempt_id=attempt.id, request=request)
