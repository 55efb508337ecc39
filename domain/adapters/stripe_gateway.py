"""The CardGateway port on Stripe: stripe-python's `StripeClient` (v1 namespace, async
methods) against the configured API base, so tests point it at a local fake that answers
like Stripe. Stripe's errors become the port's outcomes here, once."""

from __future__ import annotations

import json
from typing import Any

import stripe
from stripe.params import CustomerCreateParams, PaymentIntentCreateParams

from domain.config import StripeSettings
from domain.ports import (
    CardDeclined,
    CardDetails,
    Charge,
    ProviderUnavailable,
    UnknownCard,
    WebhookRefused,
)


class StripeGateway:
    def __init__(self, settings: StripeSettings) -> None:
        self.settings = settings
        self._client: stripe.StripeClient | None = None

    @property
    def client(self) -> stripe.StripeClient:
        if self._client is None:
            key = self.settings.secret_key.get_secret_value()
            if not key:
                raise ProviderUnavailable(
                    "Stripe is not configured (stripe.secret_key / STRIPE_SECRET_KEY)."
                )
            self._client = stripe.StripeClient(
                key,
                base_addresses={"api": self.settings.api_base},
                max_network_retries=self.settings.max_network_retries,
                http_client=stripe.HTTPXClient(timeout=self.settings.timeout_seconds),
            )
        return self._client

    async def lookup_card(self, payment_method_id: str) -> CardDetails:
        try:
            method = await self.client.v1.payment_methods.retrieve_async(payment_method_id)
        except stripe.InvalidRequestError as error:
            raise UnknownCard(error.user_message or str(error)) from None
        except stripe.StripeError as error:
            raise _unavailable(error) from None
        card = method.card
        if card is None:
            raise UnknownCard(f"{payment_method_id} is not a card.")
        return CardDetails(method.id, card.brand, card.last4, card.exp_month, card.exp_year)

    async def create_customer(self, *, name: str, email: str | None) -> str:
        params: CustomerCreateParams = {"name": name}
        if email:
            params["email"] = email
        try:
            # stripe-python gives the request its own idempotency key and reuses it on retries.
            return (await self.client.v1.customers.create_async(params)).id
        except stripe.StripeError as error:
            raise _unavailable(error) from None

    async def attach_card(self, payment_method_id: str, provider_customer_id: str) -> None:
        try:
            await self.client.v1.payment_methods.attach_async(
                payment_method_id, {"customer": provider_customer_id}
            )
        except stripe.CardError as error:
            raise CardDeclined(error.user_message or str(error)) from None
        except stripe.InvalidRequestError as error:
            raise UnknownCard(error.user_message or str(error)) from None
        except stripe.StripeError as error:
            raise _unavailable(error) from None

    async def charge(self, charge: Charge) -> str:
        params: PaymentIntentCreateParams = {
            "amount": charge.amount_minor,
            "currency": charge.currency.lower(),
            "customer": charge.provider_customer_id,
            "payment_method": charge.payment_method_id,
            "off_session": True,
            "confirm": True,
            "description": charge.description,
            "metadata": charge.metadata,
        }
        try:
            intent = await self.client.v1.payment_intents.create_async(
                params, {"idempotency_key": charge.key}
            )
        except stripe.CardError as error:
            needs_customer = error.code == "authentication_required"
            raise CardDeclined(
                error.user_message or str(error), authentication_required=needs_customer
            ) from None
        except stripe.StripeError as error:
            raise _unavailable(error) from None
        if intent.status != "succeeded":
            raise CardDeclined(
                f"The payment is {intent.status}.",
                authentication_required=intent.status == "requires_action",
            )
        return intent.id

    async def refund(self, *, payment_intent_id: str, key: str) -> str:
        try:
            refund = await self.client.v1.refunds.create_async(
                {"payment_intent": payment_intent_id}, {"idempotency_key": key}
            )
        except stripe.StripeError as error:
            raise _unavailable(error) from None
        return refund.id

    def verify_event(self, payload: bytes, signature: str, secret: str) -> dict[str, Any]:
        try:
            stripe.Webhook.construct_event(payload, signature, secret)
            event = json.loads(payload)
        except (ValueError, stripe.SignatureVerificationError):
            raise WebhookRefused("bad signature") from None
        if not isinstance(event, dict):
            raise WebhookRefused("not an event")
        return event


def _unavailable(error: stripe.StripeError) -> ProviderUnavailable:
    return ProviderUnavailable(f"Stripe: {error.user_message or type(error).__name__}")
