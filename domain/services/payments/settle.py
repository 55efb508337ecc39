"""The one place an outcome becomes a payment: the provider's answer to our call, a
webhook, or the reconciler's finding about an attempt. Each is recorded once: an attempt
is closed by a conditional update (store/attempts.py `close`), so whoever learns the
outcome first records it, and the others find it settled.

A charge is checked against its attempt (the amount and currency claimed) and booked by
record.py; a checkout's payment that no longer fits the invoice (paid meanwhile, in two
tabs or by hand) is claimed as a RETURN for give_back.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import DomainError, ErrorCode
from domain.model.access import SYSTEM, Actor
from domain.model.entities import Invoice, Payment, PaymentAttempt, PaymentMethod
from domain.model.enums import (
    AttemptKind,
    AttemptState,
    EventKind,
    InvoiceStatus,
    PaymentMethodKind,
)
from domain.model.invoice_rules import charge_problem
from domain.model.money import from_minor_units
from domain.model.payments import amount_due
from domain.ports import ChargeResult, Metrics, RefundResult
from domain.services.payments.record import apply_refund, record_payment
from domain.store import attempts, invoice_events
from domain.store.database import Database
from domain.store.locking import lock_invoice

log = logging.getLogger("invoicing.payments")


RECONCILER = "reconciler"
# What settling a checkout's charge answers when the invoice was paid meanwhile: a RETURN
# of that payment is claimed, for `give_back_pending` to make once the transaction is over.
SECOND_PAYMENT = "second payment: giving it back"


async def close_attempt(
    db: Database,
    attempt_id: int,
    state: AttemptState,
    kind: EventKind,
    actor: Actor,
    message: str,
    provider_ref: str | None = None,
) -> None:
    """Close a PENDING attempt with a known failure, and say why in the invoice's history."""
    async with db.transaction() as session:
        attempt = await session.get(PaymentAttempt, attempt_id)
        assert attempt is not None
        if await attempts.close(
            session, attempt_id, state, db.now(), provider_ref=provider_ref, message=message
        ):
            invoice_events.record(session, attempt.invoice_id, kind, actor, message)


async def rejected(db: Database, attempt_id: int, actor: Actor, message: str) -> DomainError:
    """The provider refused the request itself (keys, permissions): the attempt is closed
    as failed, and the refusal for an operator is returned to raise."""
    await close_attempt(
        db, attempt_id, AttemptState.FAILED, EventKind.PAYMENT_FAILED, actor, message
    )
    return DomainError(ErrorCode.PAYMENT_REJECTED, message)


async def unconfirmed(db: Database, invoice_id: int, actor: Actor, message: str) -> DomainError:
    """The provider did not answer: the attempt stays open for the reconciler, which asks
    the provider what happened; the history says so, and the error is returned to raise."""
    await invoice_events.record_alone(db, invoice_id, EventKind.PAYMENT_FAILED, actor, message)
    return DomainError(ErrorCode.PAYMENT_PROVIDER_ERROR, message)


def needs_review(
    session: AsyncSession, metrics: Metrics, invoice_id: int, actor: Actor, why: str
) -> str:
    """Money moved that cannot settle the invoice: changes no status, tells a person."""
    invoice_events.record(session, invoice_id, EventKind.NEEDS_REVIEW, actor, why)
    # A metric's labels are bounded: the webhook, the reconciler, or a request.
    metrics.needs_review(actor if actor in ("stripe", RECONCILER) else "request")
    log.warning("invoice %s needs review: %s", invoice_id, why)
    return "needs review"


async def _card_label(session: AsyncSession, attempt: PaymentAttempt) -> str:
    if attempt.payment_method_id is None:
        return "card"
    card = await session.get(PaymentMethod, attempt.payment_method_id)
    return f"{card.brand} ending {card.last4}" if card else "card"


async def settle_charge_in(
    session: AsyncSession,
    db: Database,
    metrics: Metrics,
    attempt: PaymentAttempt,
    invoice: Invoice,
    result: ChargeResult | None,
    actor: Actor,
) -> str:
    """Record what became of a charge attempt (None: the provider has no trace of it)."""
    now = db.now()
    if result is None:
        if await attempts.close(
            session, attempt.id, AttemptState.FAILED, now, message="no charge reached the provider"
        ):
            invoice_events.record(
                session,
                invoice.id,
                EventKind.PAYMENT_FAILED,
                actor,
                "the provider has no trace of the charge: nothing was charged",
            )
            return "failed"
        return "already settled"
    if result.state == "processing":
        attempt.provider_ref = result.provider_ref
        return "pending"
    if result.state == "failed":
        if await attempts.close(
            session,
            attempt.id,
            AttemptState.DECLINED,
            now,
            provider_ref=result.provider_ref,
            message=result.reason,
        ):
            invoice_events.record(
                session, invoice.id, EventKind.PAYMENT_DECLINED, actor, result.reason
            )
            return "declined"
        return "already settled"
    if not await attempts.close(
        session, attempt.id, AttemptState.SUCCEEDED, now, provider_ref=result.provider_ref
    ):
        return "already settled"
    problem = charge_problem(
        succeeded=True,
        amount_minor=result.amount_minor,
        currency=result.currency,
        expected_amount=attempt.amount,
        expected_currency=attempt.currency,
    )
    # An open checkout does not stop other payments: what it brings may no longer fit.
    fits = 0 < attempt.amount <= amount_due(invoice)
    if problem is None and not fits and attempt.kind is AttemptKind.CHECKOUT:
        return await _give_back_later(session, db, attempt, invoice, result, actor)
    if problem is None and not fits:
        state = "void" if invoice.void else invoice.status.value
        problem = (
            f"{attempt.amount} charged, but the invoice is {state} with {amount_due(invoice)} due"
        )
    if problem is not None:
        return needs_review(
            session, metrics, invoice.id, actor, f"{result.provider_ref}: {problem}"
        )
    label = await _card_label(session, attempt)
    invoice_events.record(
        session,
        invoice.id,
        EventKind.PAYMENT_SUCCEEDED,
        actor,
        f"{label} charged {attempt.amount}: {result.provider_ref}",
    )
    await record_payment(
        session,
        db,
        invoice,
        PaymentMethodKind.STRIPE,
        result.provider_ref,
        actor,
        attempt.amount,
    )
    return paid_outcome(invoice)


def paid_outcome(invoice: Invoice) -> str:
    return "invoice paid" if amount_due(invoice) == 0 else "part paid"


async def _give_back_later(
    session: AsyncSession,
    db: Database,
    attempt: PaymentAttempt,
    invoice: Invoice,
    result: ChargeResult,
    actor: Actor,
) -> str:
    """A checkout paid for an invoice already paid (two tabs, or cash meanwhile): the
    money is the customer's. Claimed here as a RETURN of that payment, in full; the refund
    itself is asked for once this transaction is over (`give_back`)."""
    amount = from_minor_units(result.amount_minor, attempt.currency)
    back = await attempts.claim(
        session,
        db,
        invoice,
        AttemptKind.RETURN,
        amount,
        actor,
        attempts.prefix_of(attempt),
    )
    back.provider_ref = result.provider_ref  # the payment to give back
    state = "void" if invoice.void else invoice.status.value.lower()
    invoice_events.record(
        session,
        invoice.id,
        EventKind.PAYMENT_PENDING,
        actor,
        f"a second payment, {result.provider_ref} for {amount}, arrived for an invoice "
        f"already {state}: it is being given back",
    )
    return SECOND_PAYMENT


async def settle_refund_in(
    session: AsyncSession,
    db: Database,
    metrics: Metrics,
    attempt: PaymentAttempt,
    invoice: Invoice,
    result: RefundResult | None,
    actor: Actor,
) -> str:
    now = db.now()
    if result is None or result.state == "failed":
        why = (
            "the provider has no trace of the refund"
            if result is None
            else "the refund failed at the provider"
        )
        if await attempts.close(session, attempt.id, AttemptState.FAILED, now, message=why):
            invoice_events.record(
                session, invoice.id, EventKind.PAYMENT_FAILED, actor, f"{why}: nothing was refunded"
            )
            return "failed"
        return "already settled"
    if result.state == "processing":
        attempt.provider_ref = result.provider_ref
        return "pending"
    if not await attempts.close(
        session, attempt.id, AttemptState.SUCCEEDED, now, provider_ref=result.provider_ref
    ):
        return "already settled"
    amount = from_minor_units(result.amount_minor, attempt.currency)
    payment = await session.get(Payment, attempt.payment_id) if attempt.payment_id else None
    if (
        payment is None
        or invoice.status is not InvoiceStatus.PAID
        or payment.refunded_amount + amount > payment.amount
    ):
        return needs_review(
            session,
            metrics,
            invoice.id,
            actor,
            f"{result.provider_ref}: refunded {amount}, which the payment cannot take",
        )
    await apply_refund(session, db, invoice, payment, amount, result.provider_ref, actor)
    return "invoice refunded"


@dataclass
class Settled:
    invoice: Invoice
    outcome: str


async def settle(
    db: Database,
    metrics: Metrics,
    attempt_id: int,
    result: ChargeResult | RefundResult | None,
    actor: Actor,
) -> Settled:
    """settle_*_in in a unit of work of its own: the invoice row locked, then the attempt."""
    async with db.transaction() as session:
        attempt = await session.get(PaymentAttempt, attempt_id, populate_existing=True)
        assert attempt is not None  # attempts are never deleted
        invoice = await lock_invoice(session, SYSTEM, attempt.invoice_id)
        if attempt.kind is not AttemptKind.REFUND:  # a charge, or a checkout's payment
            assert not isinstance(result, RefundResult)
            outcome = await settle_charge_in(session, db, metrics, attempt, invoice, result, actor)
        else:
            assert not isinstance(result, ChargeResult)
            outcome = await settle_refund_in(session, db, metrics, attempt, invoice, result, actor)
    return Settled(invoice, outcome)
