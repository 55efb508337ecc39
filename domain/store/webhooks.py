"""Webhook endpoints and deliveries as stored: the outbox taken off, deliveries claimed
before they are sent and settled after, each step a short transaction of its own and a
conditional update, so two dispatchers (two workers, two machines) never send one
delivery at once, and a dispatcher that dies mid-send lets go when its lease ends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import NotFound
from domain.model.entities import (
    Invoice,
    InvoiceEvent,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookOutbox,
)
from domain.model.enums import WebhookDeliveryStatus
from domain.store.database import Database

PENDING = WebhookDeliveryStatus.PENDING
SENDING = WebhookDeliveryStatus.SENDING


async def endpoint_for_update(session: AsyncSession, endpoint_id: int) -> WebhookEndpoint:
    found = await session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
    if found is None:
        raise NotFound("Webhook endpoint", endpoint_id, "id")
    return found


async def enabled_endpoints(session: AsyncSession) -> list[WebhookEndpoint]:
    query = select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True))
    return list((await session.execute(query)).scalars())


async def take_outbox(session: AsyncSession, limit: int) -> list[int]:
    """Take the oldest events waiting in the outbox off it, for this transaction alone:
    rows another dispatcher holds are skipped (MariaDB's SKIP LOCKED; SQLite's writers
    take turns, BEGIN IMMEDIATE)."""
    waiting = (
        await session.execute(
            select(WebhookOutbox.event_id)
            .order_by(WebhookOutbox.event_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).scalars()
    taken = list(waiting)
    if taken:
        await session.execute(delete(WebhookOutbox).where(WebhookOutbox.event_id.in_(taken)))
    return taken


async def events_with_invoices(
    session: AsyncSession, event_ids: Sequence[int]
) -> list[tuple[InvoiceEvent, Invoice]]:
    rows = await session.execute(
        select(InvoiceEvent, Invoice)
        .join(Invoice, Invoice.id == InvoiceEvent.invoice_id)
        .where(InvoiceEvent.id.in_(event_ids))
        .order_by(InvoiceEvent.id)
    )
    return [(event, invoice) for event, invoice in rows]


@dataclass(frozen=True)
class Claim:
    """A delivery this dispatcher may send now: what to send where, signed with what."""

    delivery_id: int
    attempt: int  # this try's number, 1 for the first
    event_id: int
    event_type: str
    url: str
    body: str
    signing_secrets: tuple[str, ...]
    created_at: datetime


def _claimable(now: datetime) -> Any:
    return or_(
        and_(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now),
        and_(WebhookDelivery.status == SENDING, WebhookDelivery.lease_until < now),
    )


async def claim_due(db: Database, now: datetime, lease_until: datetime, limit: int) -> list[Claim]:
    """Mark up to `limit` due deliveries of enabled endpoints SENDING until `lease_until`
    (or take over those whose sender's lease ran out), oldest due first."""
    async with db.transaction() as session:
        candidates = (
            await session.execute(
                select(WebhookDelivery.id)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(_claimable(now), WebhookEndpoint.enabled.is_(True))
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(limit)
            )
        ).scalars()
        claimed: list[int] = []
        for delivery_id in list(candidates):
            taken = await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id, _claimable(now))
                .values(
                    status=SENDING,
                    lease_until=lease_until,
                    attempts=WebhookDelivery.attempts + 1,
                    last_attempt_at=now,
                )
            )
            if cast(CursorResult[Any], taken).rowcount == 1:
                claimed.append(delivery_id)
        if not claimed:
            return []
        rows = await session.execute(
            select(WebhookDelivery, WebhookEndpoint)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.id.in_(claimed))
            .order_by(WebhookDelivery.id)
            .execution_options(populate_existing=True)
        )
        return [
            Claim(
                delivery_id=delivery.id,
                attempt=delivery.attempts,
                event_id=delivery.event_id,
                event_type=delivery.event_type,
                url=endpoint.url,
                body=delivery.body,
                signing_secrets=signing_secrets(endpoint, now),
                created_at=delivery.created_at,
            )
            for delivery, endpoint in rows
        ]


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> tuple[str, ...]:
    """The current secret, and the previous one while a rotation's overlap lasts."""
    previous = endpoint.previous_secret
    until = endpoint.previous_secret_until
    if previous and until is not None and until > now:
        return (endpoint.secret, previous)
    return (endpoint.secret,)


async def settle(
    db: Database,
    claim: Claim,
    *,
    status: WebhookDeliveryStatus,
    status_code: int | None,
    error: str,
    next_attempt_at: datetime | None,
) -> bool:
    """Record a try's outcome; False if the delivery is no longer this try's (its lease ran
    out and another dispatcher took it over)."""
    values: dict[str, Any] = {
        "status": status,
        "lease_until": None,
        "last_status_code": status_code,
        "last_error": error[:300],
    }
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    async with db.transaction() as session:
        done = await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == claim.delivery_id,
                WebhookDelivery.status == SENDING,
                WebhookDelivery.attempts == claim.attempt,
            )
            .values(**values)
        )
        return cast(CursorResult[Any], done).rowcount == 1


async def delivery(session: AsyncSession, delivery_id: int) -> WebhookDelivery:
    found = await session.get(WebhookDelivery, delivery_id)
    if found is None:
        raise NotFound("Webhook delivery", delivery_id, "delivery_id")
    return found


def pending_delivery(
    endpoint_id: int,
    event_id: int,
    event_type: str,
    invoice_id: int,
    body: str,
    due: datetime,
    redelivery_of: int | None = None,
) -> WebhookDelivery:
    """A delivery not tried yet, due at `due` (made by the fan-out, or by redeliverWebhook
    as a copy of another)."""
    return WebhookDelivery(
        endpoint_id=endpoint_id,
        event_id=event_id,
        event_type=event_type,
        invoice_id=invoice_id,
        body=body,
        status=PENDING,
        attempts=0,
        next_attempt_at=due,
        last_error="",
        redelivery_of=redelivery_of,
    )


async def add_deliveries(session: AsyncSession, rows: Sequence[WebhookDelivery]) -> None:
    session.add_all(rows)
    await session.flush()
