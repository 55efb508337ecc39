"""An outcome lost (a timeout, a crash, a webhook that never came) settled by asking the provider, never by calling it again: `invoicing payments reconcile`, the workers' periodic job, and every payment or refund of an invoice before it starts."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from domain.config import Settings
from domain.model.access import Actor
from domain.model.entities import Customer, Invoice, Payment, PaymentAttempt
from domain.model.enums import (
    AttemptKind,
    AttemptState,
    EventKind,
)
from domain.ports import (
    CardGateway,
    ChargeResult,
    Metrics,
    ProviderRejected,
    ProviderUnavailable,
    RefundResult,
)
from domain.services.payments.give_back import give_back, give_back_pending
from domain.services.payments.settle import (
    RECONCILER,
    SECOND_PAYMENT,
    close_attempt,
    settle,
)
from domain.store import attempts, invoice_events
from domain.store.database import Database

log = logging.getLogger("invoicing.payments")


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
    settled = await settle(db, metrics, attempt.id, found, actor)
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
        payment = await session.get(Payment, attempt.payment_id) if attempt.payment_id else None
    if invoice is None or customer is None:
        return "unknown invoice"
    if attempt.kind is AttemptKind.CHARGE:
        if not customer.stripe_customer_id:
            return None
        return await cards.find_charge(
            key=attempt.provider_key, provider_customer_id=customer.stripe_customer_id
        )
    if payment is None or not payment.reference:
        return None
    return await cards.find_refund(payment_intent_id=payment.reference, key=attempt.provider_key)


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
