"""The CardGateway port on Stripe: stripe-python's `StripeClient` (v1 namespace, async
methods) against the configured API base, so tests point it at a local fake that answers
like Stripe.

Stripe's errors become the port's outcomes here, once:

    stripe.CardError                                   -> CardDeclined (open intent cancelled)
    APIConnectionError, RateLimitError (lock_timeout
    included), APIError (5xx), anything unexpected     -> ProviderUnavailable ("try again")
    InvalidRequestError, IdempotencyError,
    AuthenticationError, PermissionError               -> ProviderRejected (an operator looks)

A charge's outcome lost on the way back is found again by its idempotency key, which every
PaymentIntent and Refund carries in its metadata (`attempt`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import stripe
from stripe.params import CustomerCreateParams, PaymentIntentCreateParams, RefundCreateParams
from stripe.params.checkout import SessionCreateParams

from domain.adapters.stripe_event_shape import checked_event
from domain.config import StripeSettings
from domain.ports import (
    CardDeclined,
    CardDetails,
    Charge,
    ChargeResult,
    ChargeState,
    CheckoutRequest,
    CheckoutSession,
    CheckoutState,
    ProviderRejected,
    ProviderUnavailable,
    RefundResult,
    UnknownCard,
    WebhookRefused,
)

T = TypeVar("T")

# How far a webhook's timestamp may lie from our clock, either way (Stripe's default).
WEBHOOK_TOLERANCE_SECONDS = 300

_PERMANENT = (
    stripe.InvalidRequestError,
    stripe.IdempotencyError,
    stripe.AuthenticationError,
    stripe.PermissionError,
)
# An intent in these states waits for something that will not come off-session.
_ABANDONED = {"requires_payment_method", "requires_action", "requires_confirmation"}
_STATES: dict[str, ChargeState] = {
    "succeeded": "succeeded",
    "processing": "processing",
    "pending": "processing",
    "requires_capture": "processing",
    "canceled": "failed",
    "failed": "failed",
}


def _message(error: stripe.StripeError) -> str:
    return error.user_message or str(error) or type(error).__name__


def _metadata(obj: Any) -> dict[str, Any]:
    metadata = getattr(obj, "metadata", None)
    return dict(metadata.to_dict()) if metadata is not None else {}


def _failure(error: stripe.StripeError) -> Exception:
    if isinstance(error, _PERMANENT):
        return ProviderRejected(f"Stripe refused the request: {_message(error)}")
    return ProviderUnavailable(f"Stripe: {error.user_message or type(error).__name__}")


class StripeGateway:
    def __init__(self, settings: StripeSettings) -> None:
        self.settings = settings
        self._client: stripe.StripeClient | None = None

    @property
    def client(self) -> stripe.StripeClient:
        if self._client is None:
            key = self.settings.secret_key.get_secret_value()
            if not key:
                raise ProviderRejected(
                    "Stripe is not configured (stripe.secret_key / STRIPE_SECRET_KEY)."
                )
            self._client = stripe.StripeClient(
                key,
                base_addresses={"api": self.settings.api_base},
                max_network_retries=self.settings.max_network_retries,
                http_client=stripe.HTTPXClient(timeout=self.settings.timeout_seconds),
            )
        return self._client

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except stripe.CardError:
            raise
        except stripe.StripeError as error:
            raise _failure(error) from None

    async def lookup_card(self, payment_method_id: str) -> CardDetails:
        try:
            method = await self.client.v1.payment_methods.retrieve_async(payment_method_id)
        except stripe.InvalidRequestError as error:
            raise UnknownCard(_message(error)) from None
        except stripe.StripeError as error:
            raise _failure(error) from None
        card = method.card
        if card is None:
            raise UnknownCard(f"{payment_method_id} is not a card.")
        return CardDetails(method.id, card.brand, card.last4, card.exp_month, card.exp_year)

    async def create_customer(self, *, name: str, email: str | None, key: str) -> str:
        params: CustomerCreateParams = {"name": name, "metadata": {"customer_key": key}}
        if email:
            params["email"] = email
        options: stripe.RequestOptions = {"idempotency_key": key}
        customer = await self._call(lambda: self.client.v1.customers.create_async(params, options))
        return customer.id

    async def attach_card(self, payment_method_id: str, provider_customer_id: str) -> None:
        try:
            await self.client.v1.payment_methods.attach_async(
                payment_method_id, {"customer": provider_customer_id}
            )
        except stripe.CardError as error:
            raise CardDeclined(_message(error)) from None
        except stripe.InvalidRequestError as error:
            raise UnknownCard(_message(error)) from None
        except stripe.StripeError as error:
            raise _failure(error) from None

    async def charge(self, charge: Charge) -> ChargeResult:
        params: PaymentIntentCreateParams = {
            "amount": charge.amount_minor,
            "currency": charge.currency.lower(),
            "customer": charge.provider_customer_id,
            "payment_method": charge.payment_method_id,
            "off_session": True,
            "confirm": True,
            "description": charge.description,
            "metadata": {**charge.metadata, "attempt": charge.key},
        }
        options: stripe.RequestOptions = {"idempotency_key": charge.key}
        try:
            intent = await self._call(
                lambda: self.client.v1.payment_intents.create_async(params, options)
            )
        except stripe.CardError as error:
            json_body: dict[str, Any] = error.json_body if isinstance(error.json_body, dict) else {}
            body: dict[str, Any] = json_body.get("error") or {}
            intent_data = body.get("payment_intent") or {}
            await self._cancel_abandoned(intent_data.get("id"), intent_data.get("status"))
            reason = _message(error)
            if body.get("decline_code"):
                reason += f" ({body['decline_code']})"
            raise CardDeclined(
                reason,
                authentication_required=error.code == "authentication_required",
                provider_ref=intent_data.get("id"),
            ) from None
        if intent.status in _ABANDONED:
            await self._cancel_abandoned(intent.id, intent.status)
            raise CardDeclined(
                f"The payment needs the customer ({intent.status}).",
                authentication_required=intent.status == "requires_action",
                provider_ref=intent.id,
            )
        return self._charge_result(intent)

    async def _cancel_abandoned(self, intent_id: str | None, status: str | None) -> None:
        """Cancel an intent nobody will complete, so it does not linger open at Stripe."""
        if not intent_id or status not in _ABANDONED:
            return
        try:
            await self.client.v1.payment_intents.cancel_async(intent_id)
        except stripe.StripeError:
            pass  # left open, it expires at Stripe; the decline stands either way

    @staticmethod
    def _charge_result(intent: Any) -> ChargeResult:
        error = getattr(intent, "last_payment_error", None)
        return ChargeResult(
            provider_ref=intent.id,
            state=_STATES.get(intent.status, "failed"),
            amount_minor=int(getattr(intent, "amount_received", None) or intent.amount),
            currency=str(intent.currency),
            reason=getattr(error, "message", None) or intent.status,
        )

    async def _pages(
        self, fetch: Callable[..., Awaitable[Any]], params: dict[str, Any]
    ) -> AsyncIterator[Any]:
        while True:
            page = await self._call(partial(fetch, params))
            for item in page.data:
                yield item
            if not page.has_more or not page.data:
                return
            params = {**params, "starting_after": page.data[-1].id}

    async def find_charge(self, *, key: str, provider_customer_id: str) -> ChargeResult | None:
        params = {"customer": provider_customer_id, "limit": 100}
        async for intent in self._pages(self.client.v1.payment_intents.list_async, params):
            if _metadata(intent).get("attempt") == key:
                return self._charge_result(intent)
        return None

    async def refund(
        self, *, payment_intent_id: str, amount_minor: int | None, key: str
    ) -> RefundResult:
        params: RefundCreateParams = {
            "payment_intent": payment_intent_id,
            "metadata": {"attempt": key},
        }
        if amount_minor is not None:
            params["amount"] = amount_minor
        options: stripe.RequestOptions = {"idempotency_key": key}
        refund = await self._call(lambda: self.client.v1.refunds.create_async(params, options))
        return self._refund_result(refund)

    @staticmethod
    def _refund_result(refund: Any) -> RefundResult:
        return RefundResult(
            provider_ref=refund.id,
            state=_STATES.get(refund.status or "pending", "failed"),
            amount_minor=int(refund.amount),
        )

    async def find_refund(self, *, payment_intent_id: str, key: str) -> RefundResult | None:
        params = {"payment_intent": payment_intent_id, "limit": 100}
        async for refund in self._pages(self.client.v1.refunds.list_async, params):
            if _metadata(refund).get("attempt") == key:
                return self._refund_result(refund)
        return None

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        params: SessionCreateParams = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount_minor,
                        "product_data": {"name": request.description},
                    },
                }
            ],
            "client_reference_id": request.metadata.get("invoice_id", ""),
            "metadata": {**request.metadata, "attempt": request.key},
            # The PaymentIntent it makes names the invoice and the attempt too, so its own
            # events settle the same attempt.
            "payment_intent_data": {
                "description": request.description,
                "metadata": {**request.metadata, "attempt": request.key},
            },
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "expires_at": int(request.expires_at.timestamp()),
        }
        if request.provider_customer_id:
            params["customer"] = request.provider_customer_id
        elif request.customer_email:
            params["customer_email"] = request.customer_email
        options: stripe.RequestOptions = {"idempotency_key": request.key}
        session = await self._call(
            lambda: self.client.v1.checkout.sessions.create_async(params, options)
        )
        return self._checkout(session)

    async def find_checkout(self, session_id: str) -> CheckoutSession | None:
        try:
            session = await self.client.v1.checkout.sessions.retrieve_async(session_id)
        except stripe.InvalidRequestError:
            return None
        except stripe.StripeError as error:
            raise _failure(error) from None
        return self._checkout(session)

    @staticmethod
    def _checkout(session: Any) -> CheckoutSession:
        intent = getattr(session, "payment_intent", None)
        state: CheckoutState = (
            session.status if session.status in ("open", "complete", "expired") else "open"
        )
        return CheckoutSession(
            session_id=session.id,
            url=str(getattr(session, "url", None) or ""),
            state=state,
            paid=session.payment_status == "paid",
            payment_ref=intent if isinstance(intent, str) or intent is None else intent.id,
            amount_minor=int(session.amount_total or 0),
            currency=str(session.currency or ""),
            metadata=_metadata(session),
        )

    def verify_event(
        self, payload: bytes, signature: str, secret: str, now: datetime
    ) -> dict[str, Any]:
        stamps = [p.split("=", 1)[1] for p in signature.split(",") if p.startswith("t=")]
        if not stamps or not stamps[0].isdigit():
            raise WebhookRefused("no timestamp in the signature")
        if abs(int(stamps[0]) - now.timestamp()) > WEBHOOK_TOLERANCE_SECONDS:
            raise WebhookRefused("the signature's timestamp is outside the tolerance")
        try:
            # Our clock checks the time above; Stripe's check here is the signature alone.
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"), signature, secret, tolerance=None
            )
            event = json.loads(payload)
        except (ValueError, stripe.SignatureVerificationError):
            raise WebhookRefused("bad signature") from None
        return checked_event(event)
