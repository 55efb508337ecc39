"""createWebhookEndpoint, disable/enableWebhookEndpoint, rotateWebhookSecret,
redeliverWebhook: staff manage where invoice events are sent (the sending is
services/webhook_dispatch.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from domain.config import Settings
from domain.errors import DomainError, ErrorCode, InvalidInput
from domain.model import validation
from domain.model import webhooks as rules
from domain.model.access import Viewer, require_staff
from domain.model.entities import WebhookDelivery, WebhookEndpoint
from domain.model.enums import WebhookEventType
from domain.ports import TargetRefused, WebhookSender
from domain.store import webhooks as store
from domain.store.database import Database


@dataclass(frozen=True)
class EndpointWithSecret:
    """An endpoint as made or rotated: the only time its signing secret is shown."""

    endpoint: WebhookEndpoint
    secret: str


async def create_endpoint(
    db: Database,
    viewer: Viewer,
    sender: WebhookSender,
    url: str,
    events: Sequence[WebhookEventType],
    description: str | None = None,
) -> EndpointWithSecret:
    require_staff(viewer)
    checked = rules.check_url(url)
    chosen = rules.event_types(events)
    text = validation.optional_text("description", description, 200) or ""
    try:
        await sender.check_target(checked)  # before any transaction: it may ask the DNS
    except TargetRefused as refused:
        raise InvalidInput("url", f"Webhooks cannot be sent there: {refused}.") from None
    secret = rules.new_secret()
    endpoint = WebhookEndpoint(
        url=checked,
        description=text,
        events=rules.stored_events(chosen),
        secret=secret,
        enabled=True,
    )
    async with db.transaction() as session:
        session.add(endpoint)
    return EndpointWithSecret(endpoint, secret)


async def set_enabled(
    db: Database, viewer: Viewer, endpoint_id: int, enabled: bool
) -> WebhookEndpoint:
    """Disabled: nothing is sent to it and no new deliveries are made for it; what was
    waiting is sent once it is enabled again (if still within the retry window)."""
    require_staff(viewer)
    async with db.transaction() as session:
        endpoint = await store.endpoint_for_update(session, endpoint_id)
        if endpoint.enabled != enabled:
            endpoint.enabled = enabled
            endpoint.disabled_at = None if enabled else db.now()
    return endpoint


async def rotate_secret(
    db: Database, settings: Settings, viewer: Viewer, endpoint_id: int
) -> EndpointWithSecret:
    """A new secret signs from now on; the old one also signs for
    `webhooks.rotation_overlap_hours`, so the receiver can switch without losing events."""
    require_staff(viewer)
    overlap = timedelta(hours=settings.webhooks.rotation_overlap_hours)
    secret = rules.new_secret()
    async with db.transaction() as session:
        endpoint = await store.endpoint_for_update(session, endpoint_id)
        endpoint.previous_secret = endpoint.secret if overlap else None
        endpoint.previous_secret_until = db.now() + overlap if overlap else None
        endpoint.secret = secret
    return EndpointWithSecret(endpoint, secret)


async def redeliver(db: Database, viewer: Viewer, delivery_id: int) -> WebhookDelivery:
    """Send a delivery's event again, as a new delivery with the same event id and body
    (the log keeps both), due now."""
    require_staff(viewer)
    async with db.transaction() as session:
        original = await store.delivery(session, delivery_id)
        endpoint = await store.endpoint_for_update(session, original.endpoint_id)
        if not endpoint.enabled:
            raise DomainError(
                ErrorCode.CONFLICT,
                f"Webhook endpoint {endpoint.id} is disabled; enable it first.",
                "delivery_id",
            )
        copy = store.pending_delivery(
            original.endpoint_id,
            original.event_id,
            original.event_type,
            original.invoice_id,
            original.body,
            db.now(),
            redelivery_of=original.id,
        )
        await store.add_deliveries(session, [copy])
    return copy
