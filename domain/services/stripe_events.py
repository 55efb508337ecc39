"""POST /webhooks/stripe: Stripe's events (already verified), each handled once, reconciling
what happened at Stripe with the invoice it names.

`payment_intent.succeeded`: an invoice is paid only by an intent that succeeded, in the
invoice's currency, for exactly what is due, from its customer (and it settles our own
attempt when it is one). `payment_intent.payment_failed` / `.canceled`: recorded, and our
attempt closed. `charge.refunded`: what Stripe has refunded so far (a refund made in the
dashboard, whole or partial) is recorded for its real amount. Anything that moved money
but cannot settle the invoice is recorded as NEEDS_REVIEW and changes no status.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.config import Settings
from domain.errors import NotFound
from domain.model.access import SYSTEM
from domain.model.entities import Invoice, Payment, PaymentAttempt, ProcessedWebhookEvent
from domain.model.enums import (
    AttemptKind,
    AttemptState,
    EventKind,
    InvoiceStatus,
    PaymentMethodKind,
)
from domain.model.ids import outside_id
from domain.model.invoice_rules import charge_problem, is_open
from domain.model.money import from_minor_units
from domain.model.payments import amount_due
from domain.ports import ChargeResult, Metrics
from domain.services.payments.record import apply_refund, record_payment
from domain.services.payments.settle import needs_review, paid_outcome, settle_charge_in
from domain.store import attempts, invoice_events
from domain.store.database import Database
from domain.store.locking import customer_of, lock_invoice

log = logging.getLogger("invoicing.webhooks")
ACTOR = "stripe"


@dataclass
class _Event:
    session: AsyncSession
    db: Database
    settings: Settings
    metrics: Metrics
    id: str
    type: str

    def note(self, invoice_id: int, detail: str = "") -> None:
        message = f"{self.type} {self.id}" + (f" ({detail})" if detail else "")
        invoice_events.record(self.session, invoice_id, EventKind.WEBHOOK, ACTOR, message)


async def handle_stripe_event(
    db: Database, settings: Settings, metrics: Metrics, event: dict[str, Any]
) -> str:
    """Apply one verified event; answers what was done (a replay does nothing)."""
    event_id, event_type = str(event.get("id", "")), str(event.get("type", ""))
    obj = (event.get("data") or {}).get("object") or {}
    try:
        async with db.transaction() as session:
            session.add(
                ProcessedWebhookEvent(provider="stripe", event_id=event_id, event_type=event_type)
            )
            await session.flush()
            handler = _HANDLERS.get(event_type)
            if handler is None:
                return "ignored"
            return await handler(_Event(session, db, settings, metrics, event_id, event_type), obj)
    except IntegrityError:
        return "already handled"


async def _invoice_of(session: AsyncSession, invoice_id: Any) -> Invoice | None:
    wanted = outside_id(invoice_id)
    if wanted is None:
        return None  # not an id of ours (Stripe sends metadata as strings): no such invoice
    try:
        return await lock_invoice(session, SYSTEM, wanted)
    except NotFound:
        return None


async def _named(
    event: _Event, obj: dict[str, Any]
) -> tuple[Invoice, PaymentAttempt | None] | None:
    """The invoice a provider object's metadata names, and our attempt behind the object
    (by the key in its metadata, or by the object's id); None for no invoice of ours."""
    metadata = obj.get("metadata") or {}
    invoice = await _invoice_of(event.session, metadata.get("invoice_id"))
    if invoice is None:
        return None
    attempt = await attempts.find(
        event.session, key=metadata.get("attempt"), provider_ref=str(obj.get("id"))
    )
    return invoice, attempt


async def _succeeded(event: _Event, intent: dict[str, Any]) -> str:
    named = await _named(event, intent)
    if named is None:
        return "no matching invoice"
    invoice, attempt = named
    intent_id = str(intent.get("id"))
    event.note(invoice.id, intent_id)
    result = ChargeResult(
        provider_ref=intent_id,
        state="succeeded" if intent.get("status") == "succeeded" else "failed",
        amount_minor=int(intent.get("amount_received") or 0),
        currency=str(intent.get("currency") or ""),
        reason=str(intent.get("status")),
    )
    if attempt is not None and attempt.invoice_id == invoice.id:
        if attempt.state is not AttemptState.PENDING:
            return "invoice already settled"
        return await settle_charge_in(
            event.session, event.db, event.metrics, attempt, invoice, result, ACTOR
        )
    # A payment made elsewhere: the pay page, where the customer authenticated.
    if await _booked(event.session, intent_id):
        return "invoice already settled"
    customer = await customer_of(event.session, invoice)
    problem = charge_problem(
        succeeded=result.state == "succeeded",
        expected_amount=amount_due(invoice),
        amount_minor=result.amount_minor,
        currency=result.currency,
        expected_currency=invoice.currency,
        customer_ref=intent.get("customer"),
        expected_customer_ref=customer.stripe_customer_id,
    )
    if problem is None and (
        not is_open(invoice) or await attempts.open_count(event.session, invoice.id)
    ):
        problem = f"the invoice is already {'void' if invoice.void else invoice.status.value} or being paid"
    if problem is not None:
        return needs_review(
            event.session, event.metrics, invoice.id, ACTOR, f"{intent_id}: {problem}"
        )
    invoice_events.record(
        event.session,
        invoice.id,
        EventKind.PAYMENT_SUCCEEDED,
        ACTOR,
        f"paid at Stripe: {intent_id}",
    )
    await record_payment(
        event.session, event.db, invoice, PaymentMethodKind.STRIPE, intent_id, ACTOR
    )
    return paid_outcome(invoice)


async def _booked(session: AsyncSession, intent_id: str) -> bool:
    """Whether a payment by this PaymentIntent is already booked."""
    found = await session.execute(select(Payment.id).where(Payment.reference == intent_id))
    return found.first() is not None


async def _failed(event: _Event, intent: dict[str, Any]) -> str:
    named = await _named(event, intent)
    if named is None:
        return "no matching invoice"
    invoice, attempt = named
    intent_id = str(intent.get("id"))
    reason = ((intent.get("last_payment_error") or {}).get("message")) or "the payment failed"
    event.note(invoice.id)
    if attempt is not None and attempt.invoice_id == invoice.id:
        await attempts.close(
            event.session,
            attempt.id,
            AttemptState.DECLINED,
            event.db.now(),
            provider_ref=intent_id,
            message=reason,
        )
    invoice_events.record(event.session, invoice.id, EventKind.PAYMENT_DECLINED, ACTOR, reason)
    return "failure recorded"


async def _refunded(event: _Event, charge: dict[str, Any]) -> str:
    intent_id = charge.get("payment_intent")
    found = (
        await event.session.execute(
            select(Payment.id, Payment.invoice_id).where(
                Payment.reference == intent_id, Payment.method == PaymentMethodKind.STRIPE
            )
        )
    ).first()
    invoice = await _invoice_of(event.session, found.invoice_id) if found else None
    if invoice is None or found is None:
        return "no matching invoice"
    payment = await event.session.get(Payment, found.id, populate_existing=True)
    assert payment is not None  # payments are never deleted
    event.note(invoice.id)
    if invoice.status not in (InvoiceStatus.PAID, InvoiceStatus.REFUNDED):
        return "invoice not paid here"
    currency = str(charge.get("currency") or "")
    expected = invoice.currency
    if currency.upper() != expected.upper():
        why = f"refunded in {currency.upper()}, the invoice is in {expected}"
        return needs_review(event.session, event.metrics, invoice.id, ACTOR, why)
    refunded = from_minor_units(int(charge.get("amount_refunded") or 0), expected)
    if refunded <= payment.refunded_amount:
        return "refund already recorded"
    if refunded > payment.amount:
        why = f"{refunded} refunded at Stripe, more than the payment's {payment.amount}"
        return needs_review(event.session, event.metrics, invoice.id, ACTOR, why)
    refunds = ((charge.get("refunds") or {}).get("data")) or []
    # Our own refunds among these, still in flight, are done: their money is recorded here.
    ours = [(r.get("metadata") or {}).get("attempt") for r in refunds]
    await event.session.execute(
        update(PaymentAttempt)
        .where(
            PaymentAttempt.invoice_id == invoice.id,
            PaymentAttempt.kind == AttemptKind.REFUND,
            PaymentAttempt.state == AttemptState.PENDING,
            PaymentAttempt.provider_key.in_([key for key in ours if key]),
        )
        .values(
            state=AttemptState.SUCCEEDED, settled_at=event.db.now(), message="settled by webhook"
        )
    )
    refund_id = str(refunds[0].get("id") if refunds else charge.get("id"))
    await apply_refund(
        event.session,
        event.db,
        invoice,
        payment,
        refunded - payment.refunded_amount,
        refund_id,
        ACTOR,
    )
    return (
        "invoice refunded"
        if invoice.status is InvoiceStatus.REFUNDED
        else "partial refund recorded"
    )


async def _checkout_of(
    event: _Event, checkout: dict[str, Any]
) -> tuple[Invoice, PaymentAttempt] | str:
    """The invoice and our attempt a checkout session's event is about, or what to answer."""
    named = await _named(event, checkout)
    if named is None:
        return "no matching invoice"
    invoice, attempt = named
    session_id = str(checkout.get("id"))
    event.note(invoice.id, session_id)
    if (
        attempt is None
        or attempt.invoice_id != invoice.id
        or attempt.kind is not AttemptKind.CHECKOUT
    ):
        return needs_review(
            event.session,
            event.metrics,
            invoice.id,
            ACTOR,
            f"{session_id}: not a checkout we opened",
        )
    return invoice, attempt


async def _checkout_paid(event: _Event, checkout: dict[str, Any]) -> str:
    """`checkout.session.completed` (paid, or not yet for a delayed method) and
    `…async_payment_succeeded`: the attempt settled as a charge, checked against its
    amount and currency; an invoice already paid is not paid twice."""
    found = await _checkout_of(event, checkout)
    if isinstance(found, str):
        return found
    invoice, attempt = found
    if checkout.get("payment_status") != "paid":
        return "payment processing"  # a bank debit: async_payment_succeeded/failed follows
    if attempt.state is not AttemptState.PENDING:
        return "invoice already settled"
    result = ChargeResult(
        provider_ref=str(checkout.get("payment_intent") or checkout.get("id")),
        state="succeeded",
        amount_minor=int(checkout.get("amount_total") or 0),
        currency=str(checkout.get("currency") or ""),
    )
    return await settle_charge_in(
        event.session, event.db, event.metrics, attempt, invoice, result, ACTOR
    )


async def _checkout_ended(event: _Event, checkout: dict[str, Any]) -> str:
    """`…async_payment_failed` and `checkout.session.expired`: nothing was paid there."""
    found = await _checkout_of(event, checkout)
    if isinstance(found, str):
        return found
    invoice, attempt = found
    expired = event.type.endswith("expired")
    why = "the checkout expired unpaid" if expired else "the payment on the checkout failed"
    state = AttemptState.FAILED if expired else AttemptState.DECLINED
    if await attempts.close(event.session, attempt.id, state, event.db.now(), message=why):
        kind = EventKind.PAYMENT_FAILED if expired else EventKind.PAYMENT_DECLINED
        invoice_events.record(event.session, invoice.id, kind, ACTOR, why)
        return "checkout closed"
    return "already settled"


_HANDLERS: dict[str, Callable[[_Event, dict[str, Any]], Awaitable[str]]] = {
    "checkout.session.completed": _checkout_paid,
    "checkout.session.async_payment_succeeded": _checkout_paid,
    "checkout.session.async_payment_failed": _checkout_ended,
    "checkout.session.expired": _checkout_ended,
    "payment_intent.succeeded": _succeeded,
    "payment_intent.payment_failed": _failed,
    "payment_intent.canceled": _failed,
    "charge.refunded": _refunded,
}
