"""Outbound webhooks: which invoice events an integrator can receive, how a delivery is
signed (as Stripe signs its own), when a failed one is tried again, and what an endpoint's
URL may look like. Rules only: resolving names, the address guard and sending live in
domain/adapters/webhook_http.py."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from domain.errors import InvalidInput
from domain.model.entities import Invoice, InvoiceEvent
from domain.model.enums import EventKind, WebhookEventType
from domain.model.formatting import utc_milliseconds

# The invoice history's events an endpoint can be told of. An email is announced once
# sent (its claim is recorded as EMAILED before the provider answers: see invoice_email).
ANNOUNCED: dict[EventKind, WebhookEventType] = {
    EventKind.GENERATED: WebhookEventType.INVOICE_GENERATED,
    EventKind.EMAILED: WebhookEventType.INVOICE_EMAILED,
    EventKind.PAID: WebhookEventType.INVOICE_PAID,
    EventKind.PART_PAID: WebhookEventType.INVOICE_PART_PAID,
    EventKind.OVERDUE: WebhookEventType.INVOICE_OVERDUE,
    EventKind.REMINDED: WebhookEventType.INVOICE_REMINDER_SENT,
    EventKind.VOIDED: WebhookEventType.INVOICE_VOIDED,
    EventKind.REFUNDED: WebhookEventType.INVOICE_REFUNDED,
    EventKind.PAYMENT_DECLINED: WebhookEventType.PAYMENT_FAILED,
    EventKind.PAYMENT_FAILED: WebhookEventType.PAYMENT_FAILED,
    EventKind.PDF_READY: WebhookEventType.INVOICE_PDF_READY,
}

SIGNATURE_HEADER = "Invoicing-Signature"
SECRET_PREFIX = "whsec_"
MAX_URL_LENGTH = 2000


def event_id(sequence: int) -> str:
    """The id integrators deduplicate on: a redelivery carries the same one."""
    return f"evt_{sequence}"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def signature_header(signing_secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex>` with one v1 per secret (two while a rotation overlaps)."""
    return ",".join(
        [f"t={timestamp}", *(f"v1={sign(secret, timestamp, body)}" for secret in signing_secrets)]
    )


def verify(secret: str, header: str, body: bytes, now: int, tolerance_seconds: int = 300) -> bool:
    """What a receiver does (docs/webhooks.md shows the same in a few lines)."""
    parts = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [value for key, value in parts if key == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance_seconds:
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, value) for key, value in parts if key == "v1")


def event_types(chosen: Iterable[WebhookEventType]) -> list[WebhookEventType]:
    wanted = sorted(set(chosen), key=list(WebhookEventType).index)
    if not wanted:
        raise InvalidInput("events", "Choose at least one event type.")
    return wanted


def stored_events(chosen: Iterable[WebhookEventType]) -> str:
    return " ".join(event.value for event in chosen)


def parse_events(stored: str) -> list[WebhookEventType]:
    return [WebhookEventType(value) for value in stored.split()]


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host and no credentials in it."""
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise InvalidInput("url", f"Give an http(s) URL of at most {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput("url", "This is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("url", "Webhook endpoints must be http:// or https:// URLs.")
    if parts.username or parts.password:
        raise InvalidInput("url", "Put no user name or password in the URL.")
    if port == 0 or any(ord(c) < 33 for c in url):
        raise InvalidInput("url", "This is not a valid URL.")
    return url


def next_attempt(
    attempts: int,
    now: datetime,
    first_created: datetime,
    *,
    base: timedelta,
    ceiling: timedelta,
    give_up_after: timedelta,
) -> datetime | None:
    """When to try again after `attempts` failed tries: base, 2x, 4x ... up to `ceiling`
    apart, or None once the event is `give_up_after` old (3 days by default)."""
    wait = min(base * (2 ** max(attempts - 1, 0)), ceiling)
    when = now + wait
    return None if when - first_created > give_up_after else when


def delivery_body(event: InvoiceEvent, event_type: WebhookEventType, invoice: Invoice) -> str:
    """The JSON an endpoint receives: the event (id, type, when, its sequence) and the
    invoice as it stood when the delivery was made."""
    return json.dumps(
        {
            "id": event_id(event.id),
            "type": event_type.value,
            "created": utc_milliseconds(event.created_at),
            "sequence": event.id,
            "data": {
                "invoice": {
                    "id": str(invoice.id),
                    "number": invoice.number,
                    "customerId": str(invoice.customer_id),
                    "title": invoice.title,
                    "status": invoice.status.value,
                    "void": invoice.void,
                    "currency": invoice.currency,
                    "total": str(invoice.total),
                    "refundedAmount": str(invoice.refunded_amount),
                    "dueDate": invoice.due_date.isoformat(),
                    "createdAt": utc_milliseconds(invoice.created_at),
                    "paidAt": utc_milliseconds(invoice.paid_at) if invoice.paid_at else None,
                },
                "message": event.message,
            },
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
