"""A second payment (a checkout paid for an invoice already paid) given back to the customer, once."""

from __future__ import annotations

import logging

from domain.model.access import Actor
from domain.model.entities import PaymentAttempt
from domain.model.enums import (
    AttemptKind,
    AttemptState,
    EventKind,
)
from domain.ports import (
    CardGateway,
    Metrics,
    ProviderRejected,
    ProviderUnavailable,
)
from domain.services.payments.settle import (
    needs_review,
)
from domain.store import attempts, invoice_events
from domain.store.database import Database

log = logging.getLogger("invoicing.payments")


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
