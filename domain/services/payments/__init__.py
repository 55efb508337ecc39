"""Getting paid, one module per operation; every card payment, checkout and refund in the
same three steps, so no database transaction is held while the provider answers:

    claim      one short transaction: the invoice row locked and checked, a PENDING
               attempt carrying the provider's idempotency key (store/attempts.py)
    call       the provider, no transaction open
    settle     a second short transaction (settle.py): the outcome recorded once

    manual.py      payInvoice by cash, POS, bank transfer or returned funds
    charge.py      payInvoice by a saved card
    checkout.py    the invoice page's pay button (a Stripe Checkout session)
    refund.py      refundInvoice
    claim.py       what a claim answers (the invoice, the attempt claimed)
    settle.py      an outcome (an answer, a webhook, the reconciler) becomes a payment
    record.py      how money received or given back is booked
    reconcile.py   an outcome lost, settled by asking the provider
    give_back.py   a second payment for an invoice already paid, refunded
    plans.py       payment plans: installments of what is due

The rules of amounts (what is due, what a payment may be, how payments fill the
installments) are in domain/model/payments.py, without I/O.
"""

from __future__ import annotations

from domain.config import Settings
from domain.model.access import Viewer
from domain.model.commands import PaymentRequest
from domain.model.entities import Invoice
from domain.model.enums import PaymentMethodKind
from domain.ports import CardGateway, Metrics
from domain.services.payments.charge import pay_by_card
from domain.services.payments.manual import pay_by_hand
from domain.store.database import Database


async def pay(
    db: Database,
    settings: Settings,
    viewer: Viewer,
    request: PaymentRequest,
    cards: CardGateway,
    metrics: Metrics,
) -> Invoice:
    """payInvoice, every method: cards through the provider, the rest recorded by hand."""
    if request.method is PaymentMethodKind.STRIPE:
        return await pay_by_card(db, settings, viewer, request, cards, metrics)
    return await pay_by_hand(db, viewer, request)
