"""POST /webhooks/stripe: Stripe's events (already verified), each handled once,
reconciling what happened at Stripe.

`payment_intent.succeeded`: an invoice paid on the pay page (after authentication) becomes
PAID. `payment_intent.payment_failed`: the failure is recorded in the invoice's history.
`charge.refunded`: a refund made in Stripe's dashboard makes the invoice REFUNDED here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import NotFound
from domain.model.access import SYSTEM
from domain.model.entities import Invoice, ProcessedWebhookEvent
from domain.model.enums import EventKind, InvoiceStatus, PaymentMethodKind
from domain.services.payments import record_payment
from domain.services.refunds import apply_refund
from domain.store import invoice_events
from domain.store.database import Database
from domain.store.locking import lock_invoice

log = logging.getLogger("invoicing.webhooks")
ACTOR = "stripe"


async def handle_stripe_event(db: Database, event: dict[str, Any]) -> str:
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
            return await handler(session, db, event_id, event_type, obj) if handler else "ignored"
    except IntegrityError:
        return "already handled"


async def _invoice_of(session: AsyncSession, invoice_id: Any) -> Invoice | None:
    try:
        return await lock_invoice(session, SYSTEM, int(invoice_id))
    except (TypeError, ValueError, NotFound):
        return None


async def _succeeded(
    session: AsyncSession, db: Database, event_id: str, event_type: str, intent: dict[str, Any]
) -> str:
    invoice = await _invoice_of(session, (intent.get("metadata") or {}).get("invoice_id"))
    if invoice is None:
        return "no matching invoice"
    invoice_events.record(
        session,
        invoice.id,
        EventKind.WEBHOOK,
        ACTOR,
        f"{event_type} {event_id} ({intent.get('id')})",
    )
    if invoice.status is InvoiceStatus.UNPAID and not invoice.void:
        invoice_events.record(
            session,
            invoice.id,
            EventKind.PAYMENT_SUCCEEDED,
            ACTOR,
            f"paid at Stripe: {intent.get('id')}",
        )
        await record_payment(
            session, db, invoice, PaymentMethodKind.STRIPE, str(intent.get("id")), ACTOR
        )
        return "invoice paid"
    return "invoice already settled"


async def _failed(
    session: AsyncSession, db: Database, event_id: str, event_type: str, intent: dict[str, Any]
) -> str:
    invoice = await _invoice_of(session, (intent.get("metadata") or {}).get("invoice_id"))
    if invoice is None:
        return "no matching invoice"
    reason = ((intent.get("last_payment_error") or {}).get("message")) or "the payment failed"
    invoice_events.record(session, invoice.id, EventKind.WEBHOOK, ACTOR, f"{event_type} {event_id}")
    invoice_events.record(session, invoice.id, EventKind.PAYMENT_DECLINED, ACTOR, reason)
    return "failure recorded"


async def _refunded(
    session: AsyncSession, db: Database, event_id: str, event_type: str, charge: dict[str, Any]
) -> str:
    intent_id = charge.get("payment_intent")
    found = (
        await session.execute(
            select(Invoice.id).where(
                Invoice.payment_reference == intent_id,
                Invoice.payment_method == PaymentMethodKind.STRIPE,
            )
        )
    ).scalar_one_or_none()
    invoice = await _invoice_of(session, found) if found else None
    if invoice is None:
        return "no matching invoice"
    invoice_events.record(session, invoice.id, EventKind.WEBHOOK, ACTOR, f"{event_type} {event_id}")
    if invoice.status is not InvoiceStatus.PAID:
        return "invoice not paid here"
    refunds = ((charge.get("refunds") or {}).get("data")) or []
    refund_id = refunds[0].get("id") if refunds else str(charge.get("id"))
    await apply_refund(session, db, invoice, str(refund_id), ACTOR)
    return "invoice refunded"


Handler = Callable[[AsyncSession, Database, str, str, dict[str, Any]], Awaitable[str]]

_HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": _succeeded,
    "payment_intent.payment_failed": _failed,
    "charge.refunded": _refunded,
}
