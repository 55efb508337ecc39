"""POST /webhooks/stripe: Stripe's events, verified against the raw body and the secret."""

from __future__ import annotations

import json
import logging

import stripe
from starlette.requests import Request
from starlette.responses import JSONResponse

from domain.runtime import Runtime
from domain.stripe_webhooks import handle_stripe_event

log = logging.getLogger("invoicing.webhooks")


async def stripe_webhook(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    secret = runtime.settings.stripe.webhook_secret.get_secret_value()
    payload = await request.body()
    signature = request.headers.get("stripe-signature")
    if not secret:
        return JSONResponse(
            {"error": "webhooks are not configured (stripe.webhook_secret)"}, status_code=503
        )
    if not signature:
        return JSONResponse({"error": "missing Stripe-Signature header"}, status_code=400)
    try:
        stripe.Webhook.construct_event(payload, signature, secret)
        event = json.loads(payload)
    except (ValueError, stripe.SignatureVerificationError):
        log.warning("refused a Stripe webhook with a bad signature")
        return JSONResponse({"error": "bad signature"}, status_code=400)
    outcome = await handle_stripe_event(runtime.db, event)
    return JSONResponse({"received": True, "outcome": outcome})
