"""A small Stripe stand-in on 127.0.0.1, answering like Stripe's v1 API for what we use:
payment methods, customers, off-session PaymentIntents (listed, cancelled), refunds whole
and partial (listed), idempotency keys and Stripe's error bodies. It counts charges, so
tests can prove nothing is charged twice; it can answer slowly, fail for now (5xx, 429)
or refuse (400, 401), and tell when a charge request arrives."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from tests.fakes._http import JsonHandler, LocalServer

CARDS = {
    "pm_card_visa": ("visa", "4242", 12, 2034),
    "pm_card_mastercard": ("mastercard", "4444", 8, 2031),
    "pm_card_chargeDeclined": ("visa", "0002", 1, 2033),
    "pm_card_authenticationRequired": ("visa", "3184", 3, 2032),
    # A charge that stays `processing` until the test settles it.
    "pm_card_processing": ("visa", "1881", 6, 2033),
}


def _error(kind: str, message: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "error": {"type": kind, "message": message, **({"code": code} if code else {}), **extra}
    }


def _missing(kind: str, ident: str, **extra: Any) -> dict[str, Any]:
    """Stripe's answer for an object it does not have."""
    return _error(
        "invalid_request_error", f"No such {kind}: '{ident}'", "resource_missing", **extra
    )


class FakeStripe:
    def __init__(self) -> None:
        self.charges: list[dict[str, Any]] = []
        self.refunds: list[dict[str, Any]] = []
        self.customers: list[dict[str, Any]] = []
        self.intents: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}  # Checkout sessions, by id
        self.cancelled: list[str] = []
        self.fail_next = 0  # answer 500 before doing anything
        self.fail_after_charge = 0  # charge, then answer 500 (the client retries with the same key)
        self.rate_limit_next = 0  # answer 429 lock_timeout
        self.refuse_next: tuple[int, str, str] | None = None  # (status, type, message), once
        self.refuse_path: tuple[str, int, str, str] | None = None  # the same, for a path's end
        self.charge_delay = 0.0  # seconds a charge takes
        self.charge_arrived = threading.Event()
        self.on_charge: Callable[[], None] | None = None
        self._ids = itertools.count(1)
        self._stored: dict[str, tuple[str, int, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._server = LocalServer(self._handler())
        self.url = self._server.url

    def reset(self) -> None:
        """Forget everything, as a fresh Stripe test account would."""
        with self._lock:
            self.charges.clear()
            self.refunds.clear()
            self.customers.clear()
            self.intents.clear()
            self.sessions.clear()
            self.cancelled.clear()
            self._stored.clear()
            self.fail_next = self.fail_after_charge = self.rate_limit_next = 0
            self.refuse_next = self.refuse_path = None
            self.charge_delay = 0.0
            self.charge_arrived.clear()
            self.on_charge = None

    @property
    def keys(self) -> list[str]:
        """Every idempotency key a request has carried."""
        with self._lock:
            return list(self._stored)

    def close(self) -> None:
        self._server.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path.startswith("/pay/"):  # the hosted page a customer lands on
                    body = b"<!doctype html><title>Fake Checkout</title><h1>Pay</h1>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                self.answer(*fake.route("GET", parts.path, params, None))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                params = dict(parse_qsl(self.rfile.read(length).decode()))
                key = self.headers.get("Idempotency-Key")
                path = urlsplit(self.path).path
                if path == "/v1/payment_intents":
                    fake.charge_arrived.set()
                    if fake.on_charge is not None:
                        fake.on_charge()
                    time.sleep(fake.charge_delay)
                self.answer(*fake.route("POST", path, params, key))

        return Handler

    def route(
        self, method: str, path: str, params: dict[str, str], key: str | None
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return 500, _error("api_error", "An unknown error occurred")
            if self.rate_limit_next > 0:
                self.rate_limit_next -= 1
                return 429, _error(
                    "invalid_request_error",
                    "This object cannot be accessed right now because another API request or "
                    "Stripe process is currently accessing it.",
                    "lock_timeout",
                )
            if self.refuse_next is not None:
                status, kind, message = self.refuse_next
                self.refuse_next = None
                return status, _error(kind, message)
            if self.refuse_path is not None and path.endswith(self.refuse_path[0]):
                _, status, kind, message = self.refuse_path
                self.refuse_path = None
                return status, _error(kind, message)
            if key and key in self._stored:
                fingerprint, status, body = self._stored[key]
                if fingerprint != f"{path}?{sorted(params.items())}":
                    return 400, _error(
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters they were first "
                        f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
                    )
            else:
                status, body = self._dispatch(method, path, params)
                if key and method == "POST" and status < 500:
                    self._stored[key] = (f"{path}?{sorted(params.items())}", status, body)
            # The charge happened (or was replayed) but the answer is lost on the way back.
            if path == "/v1/payment_intents" and status == 200 and self.fail_after_charge > 0:
                self.fail_after_charge -= 1
                return 500, _error("api_error", "An unknown error occurred")
            return status, body

    def _dispatch(
        self, method: str, path: str, params: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        if method == "GET" and parts[:2] == ["v1", "payment_methods"] and len(parts) == 3:
            return self._payment_method(parts[2])
        if method == "POST" and parts == ["v1", "customers"]:
            customer = {
                "id": f"cus_{next(self._ids)}",
                "object": "customer",
                "name": params.get("name"),
                "email": params.get("email"),
            }
            self.customers.append(customer)
            return 200, customer
        if method == "POST" and parts[:2] == ["v1", "payment_methods"] and parts[3:] == ["attach"]:
            status, card = self._payment_method(parts[2])
            return status, {**card, "customer": params.get("customer")} if status == 200 else card
        if method == "POST" and parts == ["v1", "payment_intents"]:
            return self._payment_intent(params)
        if method == "GET" and parts == ["v1", "payment_intents"]:
            found = [
                i for i in self.intents.values() if i.get("customer") == params.get("customer")
            ]
            return 200, self._list("/v1/payment_intents", found, params)
        if parts[:2] == ["v1", "payment_intents"] and len(parts) >= 3:
            intent = self.intents.get(parts[2])
            if intent is None:
                return 404, _missing("payment_intent", parts[2])
            if method == "POST" and parts[3:] == ["cancel"]:
                intent["status"] = "canceled"
                self.cancelled.append(intent["id"])
            return 200, intent
        if method == "POST" and parts == ["v1", "checkout", "sessions"]:
            return self._checkout(params)
        if method == "GET" and parts[:3] == ["v1", "checkout", "sessions"] and len(parts) == 4:
            session = self.sessions.get(parts[3])
            if session is None:
                return 404, _missing("checkout.session", parts[3])
            return 200, session
        if method == "POST" and parts == ["v1", "refunds"]:
            return self._refund(params)
        if method == "GET" and parts == ["v1", "refunds"]:
            found = [r for r in self.refunds if r["payment_intent"] == params.get("payment_intent")]
            return 200, self._list("/v1/refunds", found, params)
        return 404, _error("invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _list(
        self, url: str, items: list[dict[str, Any]], params: dict[str, str]
    ) -> dict[str, Any]:
        """Newest first, a page of `limit` after `starting_after`, as Stripe lists."""
        ordered = sorted(items, key=lambda item: item["created"], reverse=True)
        after = params.get("starting_after")
        if after:
            ids = [item["id"] for item in ordered]
            ordered = ordered[ids.index(after) + 1 :] if after in ids else []
        limit = int(params.get("limit", 10))
        return {
            "object": "list",
            "url": url,
            "data": ordered[:limit],
            "has_more": len(ordered) > limit,
        }

    def _refund(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return 400, _error(
                "invalid_request_error", "This PaymentIntent has no successful charge to refund."
            )
        already = sum(r["amount"] for r in self.refunds if r["payment_intent"] == intent["id"])
        amount = int(params.get("amount", intent["amount"] - already))
        if amount <= 0 or already + amount > intent["amount"]:
            return 400, _error(
                "invalid_request_error",
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({intent['amount'] - already})",
            )
        refund = {
            "id": f"re_{next(self._ids)}",
            "object": "refund",
            "status": "succeeded",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "metadata": _metadata(params),
            "created": next(self._ids),
        }
        self.refunds.append(refund)
        return 200, refund

    def _payment_method(self, pm_id: str) -> tuple[int, dict[str, Any]]:
        # Test cards may carry a suffix (pm_card_visa_2), so each customer gets its own card.
        kind = next((name for name in CARDS if pm_id == name or pm_id.startswith(name + "_")), None)
        if kind is None:
            return 404, _missing("PaymentMethod", pm_id, param="payment_method")
        brand, last4, month, year = CARDS[kind]
        card = {"brand": brand, "last4": last4, "exp_month": month, "exp_year": year}
        return 200, {"id": pm_id, "object": "payment_method", "type": "card", "card": card}

    def _payment_intent(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        intent_id = f"pi_{next(self._ids)}"
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "amount_received": 0,
            "currency": params["currency"],
            "customer": params.get("customer"),
            "payment_method": params.get("payment_method"),
            "metadata": _metadata(params),
            "created": next(self._ids),
        }
        self.intents[intent_id] = intent
        card = params.get("payment_method") or ""
        if card.startswith("pm_card_chargeDeclined"):
            intent["status"] = "requires_payment_method"
            return 402, _error(
                "card_error",
                "Your card was declined.",
                "card_declined",
                decline_code="generic_decline",
                payment_intent={**intent, "status": "requires_payment_method"},
            )
        if card.startswith("pm_card_authenticationRequired"):
            intent["status"] = "requires_payment_method"
            return 402, _error(
                "card_error",
                "Your card was declined. This transaction requires authentication.",
                "authentication_required",
                payment_intent={**intent, "status": "requires_payment_method"},
            )
        if card.startswith("pm_card_processing"):
            intent["status"] = "processing"
            return 200, intent
        self.succeed(intent_id)
        return 200, intent

    def _checkout(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        session_id = f"cs_test_{next(self._ids)}"
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": params.get("mode"),
            "url": f"{self.url}/pay/{session_id}",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": int(params["line_items[0][price_data][unit_amount]"]),
            "currency": params["line_items[0][price_data][currency]"],
            "customer": params.get("customer"),
            "client_reference_id": params.get("client_reference_id"),
            "metadata": _metadata(params),
            "payment_intent": None,
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
            "expires_at": int(params["expires_at"]),
            "created": next(self._ids),
            # What the PaymentIntent it makes will carry.
            "_intent_metadata": _metadata(params, "payment_intent_data[metadata]"),
        }
        self.sessions[session_id] = session
        return 200, {k: v for k, v in session.items() if not k.startswith("_")}

    def pay_checkout(self, session_id: str, amount: int | None = None) -> dict[str, Any]:
        """The customer paid on the hosted page: a succeeded PaymentIntent (for `amount`
        if given, to play a mismatch) and the session complete. Returns the session."""
        with self._lock:
            session = self.sessions[session_id]
            intent_id = f"pi_{next(self._ids)}"
            paid = session["amount_total"] if amount is None else amount
            self.intents[intent_id] = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": paid,
                "amount_received": paid,
                "currency": session["currency"],
                "customer": session["customer"],
                "status": "succeeded",
                "metadata": session["_intent_metadata"],
                "created": next(self._ids),
            }
            self.charges.append(self.intents[intent_id])
            session.update(
                status="complete",
                payment_status="paid",
                payment_intent=intent_id,
                amount_total=paid,
            )
            return {k: v for k, v in session.items() if not k.startswith("_")}

    def succeed(self, intent_id: str) -> dict[str, Any]:
        """The charge went through (a processing one finishing, too)."""
        intent = self.intents[intent_id]
        intent["status"], intent["amount_received"] = "succeeded", intent["amount"]
        self.charges.append(intent)
        return intent


def _metadata(params: dict[str, str], prefix: str = "metadata") -> dict[str, str]:
    start = f"{prefix}["
    return {
        k[len(start) : -1]: v
        for k, v in params.items()
        if k.startswith(start) and "]" not in k[len(start) : -1]
    }


def signed(payload: Any, secret: str, timestamp: int | None = None) -> tuple[bytes, str]:
    """A webhook body and its Stripe-Signature header, signed as Stripe signs them."""
    body = json.dumps(payload).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return body, f"t={timestamp},v1={signature}"
