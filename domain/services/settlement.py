"""How money that moved is recorded, and how a card charge or refund whose outcome was
lost is settled by asking the provider, never by calling it again.

    claim (services/payments.py, refunds.py)   a PENDING attempt, in one short transaction
    the provider call                          no transaction open
    settle_charge / settle_refund              the outcome, in a second short transaction
    reconcile_attempt                          an outcome lost (timeout, crash): ask the
                                               provider by the attempt's key, then settle
    reconcile_payments                         `invoicing payments reconcile`, and the
                                               periodic job on the workers

An attempt is closed once (store/attempts.py `close` is conditional), so the request, a
webhook and the reconciler may all learn the outcome and only the first records it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from domain.config import Settings
from domain.errors import DomainError, ErrorCode
from domain.model.access import SYSTEM, Actor
from domain.model.entities import Customer, Invoice, PaymentAttempt, PaymentMethod, Transaction
from domain.model.enums import (
    AttemptKind,
    AttemptState,
    EventKind,
    InvoiceStatus,
    PaymentMethodKind,
    TransactionKind,
)
from domain.model.invoice_rules import charge_problem, is_open, settling_transaction
from domain.model.money import minor_digits
from domain.ports import (
    CardGateway,
    ChargeResult,
    Metrics,
    ProviderRejected,
    ProviderUnavailable,
    RefundResult,
)
from domain.store import attempts, invoice_events, invoice_totals
from domain.store.database import Database
from domain.store.locking import customer_of, lock_invoice

log = logging.getLogger("invoicing.payments")

RECONCILER = "reconciler"
# What settling a checkout's charge answers when the invoice was paid meanwhile: a RETURN
# of that payment is claimed, for `give_back_pending` to make once the transaction is over.
SECOND_PAYMENT = "second payment: giving it back"


def from_minor_units(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-minor_digits(currency))


async def record_payment(
    session: AsyncSession,
    db: Database,
    invoice: Invoice,
    method: PaymentMethodKind,
    reference: str | None,
    actor: Actor,
) -> Transaction:
    """Mark the invoice paid, add the transaction that settles it (a PAYMENT; for a credit
    note, the REFUND of the funds it owes), and record it in the invoice's history."""
    customer = await customer_of(session, invoice)
    paid_at = db.now()
    description = f"{method.value}: {reference}" if reference else method.value
    kind = TransactionKind.REFUND if invoice.total < 0 else TransactionKind.PAYMENT
    payment = settling_transaction(invoice, customer, kind, description, paid_at)
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


async def apply_refund(
    session: AsyncSession,
    db: Database,
    invoice: Invoice,
    amount: Decimal,
    refund_id: str,
    actor: Actor,
) -> None:
    """Record `amount` returned to the customer of a paid invoice: a REFUND transaction;
    the invoice is REFUNDED once all of its total is."""
    customer = await customer_of(session, invoice)
    invoice.refunded_amount += amount
    invoice.refund_reference = refund_id
    whole = invoice.refunded_amount >= invoice.total
    if whole:
        await invoice_totals.move(session, invoice, status=InvoiceStatus.REFUNDED)
        invoice.status = InvoiceStatus.REFUNDED
    session.add(
        settling_transaction(
            invoice, customer, TransactionKind.REFUND, refund_id, db.now(), amount=amount
        )
    )
    detail = "" if whole else f" (partial: {invoice.refunded_amount} of {invoice.total})"
    invoice_events.record(
        session, invoice.id, EventKind.REFUNDED, actor, f"{amount} refunded: {refund_id}{detail}"
    )


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
    settings: Settings,
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
        invoice,
        succeeded=True,
        amount_minor=result.amount_minor,
        currency=result.currency,
        expected_currency=attempt.currency,
    )
    if problem is None and not is_open(invoice) and attempt.kind is AttemptKind.CHECKOUT:
        return await _give_back_later(session, db, attempt, invoice, result, actor)
    if problem is None and not is_open(invoice):
        problem = f"{result.provider_ref} charged, but the invoice is {'void' if invoice.void else invoice.status.value}"
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
        f"{label} charged {invoice.total}: {result.provider_ref}",
    )
    await record_payment(session, db, invoice, PaymentMethodKind.STRIPE, result.provider_ref, actor)
    return "invoice paid"


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
        attempt.currency,
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
    if invoice.status is not InvoiceStatus.PAID or invoice.refunded_amount + amount > invoice.total:
        return needs_review(
            session,
            metrics,
            invoice.id,
            actor,
            f"{result.provider_ref}: refunded {amount}, which the invoice cannot take",
        )
    await apply_refund(session, db, invoice, amount, result.provider_ref, actor)
    return "invoice refunded"


@dataclass
class Settled:
    invoice: Invoice
    outcome: str


async def settle(
    db: Database,
    settings: Settings,
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
            outcome = await settle_charge_in(
                session, db, settings, metrics, attempt, invoice, result, actor
            )
        else:
            assert not isinstance(result, ChargeResult)
            outcome = await settle_refund_in(session, db, metrics, attempt, invoice, result, actor)
    return Settled(invoice, outcome)


async def reconcile_attempt(
    db: Database,
    settings: Settings,
    metrics: Metrics,
    cards: CardGateway,
    attempt: PaymentAttempt,
    actor: Actor = RECONCILER,
) -> str:
    """Ask the provider what became of a PENDING attempt and settle it; an attempt the
    provider has no trace of is failed only once `payments.unknown_after_seconds` passed
    (the call may still be on its way)."""
    if attempt.kind is AttemptKind.RETURN:
        return await give_back(db, metrics, cards, attempt, actor)
    grace = timedelta(seconds=settings.payments.unknown_after_seconds)
    found: ChargeResult | RefundResult | None
    try:
        if attempt.kind is AttemptKind.CHECKOUT:
            checked = await _checkout_charge(db, cards, attempt, actor, grace)
            if isinstance(checked, str):
                return checked
            found = checked
        else:
            asked = await _ask_provider(db, cards, attempt)
            if isinstance(asked, str):
                return asked
            found = asked
    except (ProviderUnavailable, ProviderRejected) as failure:
        log.warning("attempt %s: the provider could not be asked: %s", attempt.id, failure)
        return "provider unavailable"
    if found is None and db.now() - attempt.created_at < grace:
        return "pending"
    settled = await settle(db, settings, metrics, attempt.id, found, actor)
    if settled.outcome not in ("pending", "already settled"):
        async with db.transaction() as session:
            invoice_events.record(
                session,
                attempt.invoice_id,
                EventKind.PAYMENT_RECONCILED,
                actor,
                f"{attempt.kind.value.lower()} {attempt.provider_key} settled by asking the provider: {settled.outcome}",
            )
    if settled.outcome == SECOND_PAYMENT:
        await give_back_pending(db, metrics, cards, actor)
    return settled.outcome


async def _ask_provider(
    db: Database, cards: CardGateway, attempt: PaymentAttempt
) -> ChargeResult | RefundResult | None | str:
    """A card charge's or refund's outcome as the provider has it (None: no trace of it),
    or what to answer when the invoice is gone."""
    async with db.read() as session:
        invoice = await session.get(Invoice, attempt.invoice_id)
        customer = await session.get(Customer, invoice.customer_id) if invoice else None
    if invoice is None or customer is None:
        return "unknown invoice"
    if attempt.kind is AttemptKind.CHARGE:
        if not customer.stripe_customer_id:
            return None
        return await cards.find_charge(
            key=attempt.provider_key, provider_customer_id=customer.stripe_customer_id
        )
    if not invoice.payment_reference:
        return None
    return await cards.find_refund(
        payment_intent_id=invoice.payment_reference, key=attempt.provider_key
    )


async def _checkout_charge(
    db: Database, cards: CardGateway, attempt: PaymentAttempt, actor: Actor, grace: timedelta
) -> ChargeResult | str:
    """A checkout whose webhook did not come, as the provider has its session: paid, the
    charge to settle it with; expired unpaid, closed; still open, left open. A session the
    provider has no trace of (its creation's answer lost) is closed once `grace` passed:
    nobody received its page, nobody can pay on it."""
    found = await cards.find_checkout(attempt.provider_ref) if attempt.provider_ref else None
    if found is None or found.state == "expired":
        if found is None and db.now() - attempt.created_at < grace:
            return "pending"
        why = "the checkout expired unpaid" if found else "no checkout page was opened"
        await close_attempt(
            db, attempt.id, AttemptState.FAILED, EventKind.PAYMENT_FAILED, actor, why
        )
        return "failed"
    if not found.paid:
        return "pending"  # still open, or a delayed payment on its way
    return ChargeResult(
        provider_ref=found.payment_ref or found.session_id,
        state="succeeded",
        amount_minor=found.amount_minor,
        currency=found.currency,
    )


async def give_back(
    db: Database, metrics: Metrics, cards: CardGateway, attempt: PaymentAttempt, actor: Actor
) -> str:
    """Refund a RETURN attempt's payment in full: the provider is asked first whether it
    did so already (the attempt's key is on every refund it makes), and asked to refund
    only if not, under that same key, so the money goes back once."""
    payment = attempt.provider_ref or ""
    try:
        done = await cards.find_refund(payment_intent_id=payment, key=attempt.provider_key)
        if done is None:
            done = await cards.refund(
                payment_intent_id=payment, amount_minor=None, key=attempt.provider_key
            )
    except ProviderUnavailable as failure:
        log.warning("attempt %s: giving %s back waits: %s", attempt.id, payment, failure)
        return "pending"
    except ProviderRejected as refusal:
        why = f"{payment} could not be given back: {refusal}"
    else:
        if done.state == "processing":
            return "pending"
        failed = done.state == "failed"
        why = (
            f"the refund {done.provider_ref} of {payment} failed at the provider" if failed else ""
        )
    async with db.transaction() as session:
        if why:
            if await attempts.close(
                session, attempt.id, AttemptState.FAILED, db.now(), message=why
            ):
                return needs_review(session, metrics, attempt.invoice_id, actor, why)
            return "already settled"
        assert done is not None  # the provider answered, and nothing failed
        if not await attempts.close(
            session,
            attempt.id,
            AttemptState.SUCCEEDED,
            db.now(),
            message=f"returned: {done.provider_ref}",
        ):
            return "already settled"
        invoice_events.record(
            session,
            attempt.invoice_id,
            EventKind.PAYMENT_RECONCILED,
            actor,
            f"the second payment {payment} ({attempt.amount}) was given back: {done.provider_ref}",
        )
    return "second payment given back"


async def give_back_pending(
    db: Database, metrics: Metrics, cards: CardGateway, actor: Actor
) -> None:
    """Every second payment still to give back (right after the webhook that found it)."""
    for attempt in await attempts.still_open(db, AttemptKind.RETURN):
        await give_back(db, metrics, cards, attempt, actor)


async def reconcile_open(
    db: Database,
    settings: Settings,
    metrics: Metrics,
    cards: CardGateway,
    invoice_id: int,
    actor: Actor,
) -> None:
    """Settle whatever attempts of this invoice are still open, before anyone acts on it."""
    for attempt in await attempts.open_for(db, invoice_id):
        await reconcile_attempt(db, settings, metrics, cards, attempt, actor)


@dataclass
class ReconcileReport:
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


async def reconcile_payments(
    db: Database, settings: Settings, metrics: Metrics, cards: CardGateway
) -> ReconcileReport:
    """Every attempt still open, settled by asking the provider (`invoicing payments
    reconcile`, and the workers' periodic job): what the provider confirms is settled at
    once; only an attempt it has no trace of waits out `payments.unknown_after_seconds`
    (its call may still be on the way) before it is failed."""
    report = ReconcileReport()
    for attempt in await attempts.still_open(db):
        outcome = await reconcile_attempt(db, settings, metrics, cards, attempt)
        report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
    return report
