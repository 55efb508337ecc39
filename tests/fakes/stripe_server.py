"""A small Stripe stand-in on 127.0.0.1, answering like Stripe's v1 API for what we use:
payment methods, customers, off-session PaymentIntents, refunds, idempotency keys and
Stripe's error bodies. It counts charges, so tests can prove nothing is charged twice."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes._http import JsonHandler

CARDS = {
    "pm_card_visa": ("visa", "4242", 12, 2034),
    "pm_card_mastercard": ("mastercard", "4444", 8, 2031),
    "pm_card_chargeDeclined": ("visa", "0002", 1, 2033),
    "pm_card_authenticationRequired": ("visa", "3184", 3, 2032),
}


def _error(kind: str, message: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "error": {"type": kind, "message": message, **({"code": code} if code else {}), **extra}
    }


class FakeStripe:
    def __init__(self) -> None:
        self.charges: list[dict[str, Any]] = []
        self.refunds: list[dict[str, Any]] = []
        self.customers: list[dict[str, Any]] = []
        self.fail_next = 0  # answer 500 before doing anything
        self.fail_after_charge = 0  # charge, then answer 500 (the client retries with the same key)
        self._ids = itertools.count(1)
        self._stored: dict[str, tuple[str, int, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def reset(self) -> None:
        """Forget everything, as a fresh Stripe test account would."""
        with self._lock:
            self.charges.clear()
            self.refunds.clear()
            self.customers.clear()
            self._stored.clear()
            self.fail_next = self.fail_after_charge = 0

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                self.answer(*fake.route("GET", urlsplit(self.path).path, {}, None))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                params = dict(parse_qsl(self.rfile.read(length).decode()))
                key = self.headers.get("Idempotency-Key")
                self.answer(*fake.route("POST", urlsplit(self.path).path, params, key))

        return Handler

    def route(
        self, method: str, path: str, params: dict[str, str], key: str | None
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return 500, _error("api_error", "An unknown error occurred")
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
        if method == "POST" and parts == ["v1", "refunds"]:
            refund = {
                "id": f"re_{next(self._ids)}",
                "object": "refund",
                "status": "succeeded",
                "payment_intent": params.get("payment_intent"),
            }
            self.refunds.append(refund)
            return 200, refund
        return 404, _error("invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _payment_method(self, pm_id: str) -> tuple[int, dict[str, Any]]:
        # Test cards may carry a suffix (pm_card_visa_2), so each customer gets its own card.
        kind = next((name for name in CARDS if pm_id == name or pm_id.startswith(name + "_")), None)
        if kind is None:
            return 404, _error(
                "invalid_request_error",
                f"No such PaymentMethod: '{pm_id}'",
                "resource_missing",
                param="payment_method",
            )
        brand, last4, month, year = CARDS[kind]
        card = {"brand": brand, "last4": last4, "exp_month": month, "exp_year": year}
        return 200, {"id": pm_id, "object": "payment_method", "type": "card", "card": card}

    def _payment_intent(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        intent_id = f"pi_{next(self._ids)}"
        metadata = {
            k[len("metadata[") : -1]: v for k, v in params.items() if k.startswith("metadata[")
        }
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "currency": params["currency"],
            "customer": params.get("customer"),
            "payment_method": params.get("payment_method"),
            "metadata": metadata,
        }
        card = params.get("payment_method") or ""
        if card.startswith("pm_card_chargeDeclined"):
            return 402, _error(
                "card_error",
                "Your card was declined.",
                "card_declined",
                decline_code="generic_decline",
                payment_intent={**intent, "status": "requires_payment_method"},
            )
        if card.startswith("pm_card_authenticationRequired"):
            return 402, _error(
                "card_error",
                "Your card was declined. This transaction requires authentication.",
                "authentication_required",
                payment_intent={**intent, "status": "requires_payment_method"},
            )
        intent["status"] = "succeeded"
        self.charges.append(intent)
        return 200, intent


def signed(payload: dict[str, Any], secret: str) -> tuple[bytes, str]:
    """A webhook body and its Stripe-Signature header, signed as Stripe signs them."""
    body = json.dumps(payload).encode()
    timestamp = int(time.time())
    signature = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return body, f"t={timestamp},v1={signature}"
