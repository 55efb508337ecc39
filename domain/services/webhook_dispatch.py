"""Sending webhooks: one dispatch round, run every `webhooks.dispatch_every_seconds` by the
workers (or the API process with workers.backend: local).

1. Fan out: events waiting in the outbox (written with the change itself) become one
   delivery per enabled endpoint that wants their type and existed when they happened.
2. Claim: due deliveries are marked SENDING with a lease, in a short transaction.
3. Send: each is POSTed, signed, with no transaction open.
4. Settle: a 2xx answer makes it SUCCEEDED; anything else schedules the next try
   (exponential backoff), or FAILED once `webhooks.retry_for_hours` have passed.

At least once: a dispatcher that dies between 3 and 4 leaves the delivery SENDING; when
its lease ends another dispatcher sends it again (receivers deduplicate on the event id).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.config import Settings, WebhooksSettings
from domain.model import webhooks as rules
from domain.model.entities import WebhookDelivery
from domain.model.enums import EventKind, WebhookDeliveryStatus
from domain.ports import Metrics, WebhookAnswer, WebhookSender
from domain.store import webhooks as store
from domain.store.database import Database

log = logging.getLogger("invoicing.webhooks")

FAN_OUT_BATCH = 200
# Batches of sends one round takes on at most; the rest wait for the next round.
MAX_BATCHES = 50
# A claim outlives the send's own timeout (webhooks.timeout_seconds) by this much before
# another dispatcher may take the delivery over: time to record the answer.
LEASE_MARGIN = timedelta(seconds=5)


@dataclass
class DispatchReport:
    announced: int = 0  # deliveries made from the outbox
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    @property
    def sent(self) -> int:
        return sum(self.outcomes.values())


async def fan_out(db: Database) -> int:
    """Turn the outbox's events into deliveries; returns how many were made."""
    made = 0
    while True:
        async with db.transaction() as session:
            taken = await store.take_outbox(session, FAN_OUT_BATCH)
            if not taken:
                return made
            endpoints = await store.enabled_endpoints(session)
            if not endpoints:  # nobody listens: the events are just taken off
                continue
            now = db.now()
            wants = {
                endpoint.id: set(rules.parse_events(endpoint.events)) for endpoint in endpoints
            }
            rows: list[WebhookDelivery] = []
            for event, invoice in await store.events_with_invoices(session, taken):
                event_type = rules.ANNOUNCED.get(EventKind(event.kind))
                if event_type is None:  # settled into something nobody subscribes to
                    continue
                wanting = [
                    endpoint.id
                    for endpoint in endpoints
                    if event_type in wants[endpoint.id] and endpoint.created_at <= event.created_at
                ]
                if not wanting:
                    continue
                body = rules.delivery_body(event, event_type, invoice)
                rows.extend(
                    store.pending_delivery(
                        endpoint_id, event.id, event_type.value, invoice.id, body, now
                    )
                    for endpoint_id in wanting
                )
            await store.add_deliveries(session, rows)
            made += len(rows)


def _outcome(
    claim: store.Claim, answer: WebhookAnswer, now: datetime, limits: WebhooksSettings
) -> tuple[WebhookDeliveryStatus, datetime | None]:
    if answer.delivered:
        return WebhookDeliveryStatus.SUCCEEDED, None
    retry_at = rules.next_attempt(
        claim.attempt,
        now,
        claim.created_at,
        base=timedelta(seconds=limits.retry_base_seconds),
        ceiling=timedelta(seconds=limits.retry_max_interval_seconds),
        give_up_after=timedelta(hours=limits.retry_for_hours),
    )
    if retry_at is None:
        return WebhookDeliveryStatus.FAILED, None
    return WebhookDeliveryStatus.PENDING, retry_at


async def _send_one(
    db: Database,
    limits: WebhooksSettings,
    sender: WebhookSender,
    metrics: Metrics,
    claim: store.Claim,
) -> str:
    body = claim.body.encode()
    headers = {
        rules.SIGNATURE_HEADER: rules.signature_header(
            claim.signing_secrets, int(db.now().timestamp()), body
        ),
        "Invoicing-Event-Id": rules.event_id(claim.event_id),
        "Invoicing-Delivery-Id": str(claim.delivery_id),
    }
    answer = await sender.post(claim.url, body, headers)
    status, retry_at = _outcome(claim, answer, db.now(), limits)
    error = answer.error or ("" if answer.delivered else f"answered {answer.status_code}")
    kept = await store.settle(
        db,
        claim,
        status=status,
        status_code=answer.status_code,
        error=error,
        next_attempt_at=retry_at,
    )
    outcome = status.value.lower() if kept else "taken over"
    metrics.webhook_sent(claim.event_type, outcome)
    if not kept:
        return outcome
    if status is not WebhookDeliveryStatus.SUCCEEDED:
        log.warning(
            "webhook delivery %s (try %s) to endpoint failed: %s; %s",
            claim.delivery_id,
            claim.attempt,
            error,
            f"next try at {retry_at:%Y-%m-%d %H:%M:%S}" if retry_at else "giving up",
        )
    return outcome


async def dispatch(
    db: Database, settings: Settings, sender: WebhookSender, metrics: Metrics
) -> DispatchReport:
    """One round: fan out, then send what is due (at most `concurrency` at once)."""
    limits = settings.webhooks
    report = DispatchReport(announced=await fan_out(db))
    lease = timedelta(seconds=limits.timeout_seconds) + LEASE_MARGIN
    for _ in range(MAX_BATCHES):
        now = db.now()
        claims = await store.claim_due(db, now, now + lease, limits.concurrency)
        if not claims:
            return report
        outcomes = await asyncio.gather(
            *(_send_one(db, limits, sender, metrics, claim) for claim in claims)
        )
        for outcome in outcomes:
            report.count(outcome)
    return report
