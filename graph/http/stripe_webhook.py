"""POST /webhooks/stripe: Stripe's events, verified against the raw body and the secret."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from domain.bootstrap import Runtime
from domain.ports import WebhookRefused
from domain.services.payments.give_back import give_back_pending
from domain.services.payments.settle import SECOND_PAYMENT
from domain.services.stripe_events import handle_stripe_event
from graph.http.transport import json_error

log = logging.getLogger("invoicing.webhooks")


async def stripe_webhook(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    secret = runtime.settings.stripe.webhook_secret.get_secret_value()
    payload = await request.body()
    signature = request.headers.get("stripe-signature")
    if not secret:
        return json_error(
            503, "SERVICE_UNAVAILABLE", "webhooks are not configured (stripe.webhook_secret)"
        )
    if not signature:
        return json_error(400, "BAD_REQUEST", "missing Stripe-Signature header")
    try:
        event = runtime.cards.verify_event(payload, signature, secret, runtime.clock.now())
    except WebhookRefused as refused:
        log.warning("refused a Stripe webhook: %s", refused)
        return json_error(400, "BAD_REQUEST", str(refused))
    outcome = await handle_stripe_event(runtime.db, runtime.settings, runtime.metrics, event)
    if outcome == SECOND_PAYMENT:
        # The event's own transaction is over: the payment is given back now, with no
        # transaction open while Stripe answers (or by the reconciler, if Stripe is away).
        await give_back_pending(runtime.db, runtime.metrics, runtime.cards, "stripe")
    return JSONResponse({"received": True, "outcome": outcome})
