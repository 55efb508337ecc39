"""Live updates: `invoiceChanged` over graphql-transport-ws on /graphql.

Every change an invoice goes through is already written to its history (invoice_events)
in the same transaction as the change itself. One feed per API process reads that
history's new rows (a primary-key range read, every `POLL_SECONDS`) and hands each to the
process's subscribers. So a change made by any process, or by a worker on another
machine, reaches subscribers on every process, with nothing extra to run or lose
(no broker: the database every process shares is the channel), and each message carries
the event's sequence, so a client that reconnects knows from where to re-query.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field

import strawberry

from domain.bootstrap import Runtime
from domain.model.access import Viewer
from domain.model.entities import Invoice
from domain.store.batches import rows_by_id
from domain.store.database import DATABASE_UNAVAILABLE, Database
from domain.store.invoice_events import Change, changes_after, latest_sequence
from graph.context import Info, Loaders
from graph.enums import EventKind
from graph.ids import parse_id
from graph.invoices.types import InvoiceType
from graph.live_sessions import LiveSessions

log = logging.getLogger("invoicing.subscriptions")
POLL_SECONDS = 0.25
GAP_SECONDS = 5
MAX_GAPS = 1000
QUEUE_SIZE = 1000


class FeedLagged(Exception):
    """A subscriber fell too far behind; it is told to reconnect and re-query."""


@dataclass(frozen=True)
class Delivery:
    """One change as every subscriber of the process receives it: the invoice read once
    for all of them, and what subscribers with the same viewer share to answer it (their
    loaders, so that nested fields are read once per viewer, not once per subscription)."""

    change: Change
    invoice: Invoice | None
    shared: dict[Viewer, Loaders] = field(default_factory=dict, compare=False)

    def loaders(self, runtime: Runtime, viewer: Viewer) -> Loaders:
        found = self.shared.get(viewer)
        if found is None:
            found = self.shared[viewer] = Loaders.create(runtime, viewer)
            found.invoice.prime(self.change.invoice_id, self.invoice)
        return found


class InvoiceFeed:
    """Fans new invoice events out to this process's subscribers; reads only while any."""

    def __init__(self, db: Database, poll_seconds: float = POLL_SECONDS) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self.listeners: set[asyncio.Queue[Delivery | None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()  # subscribers arriving together start one reader
        # Set while a reader follows the history (it has read where it ends): a change
        # committed after this is delivered.
        self.following = asyncio.Event()

    async def changes(self) -> AsyncIterator[Delivery]:
        queue: asyncio.Queue[Delivery | None] = asyncio.Queue(QUEUE_SIZE)
        async with self._starting:
            if self._task is None or self._task.done():
                start = await latest_sequence(self.db)
                self._task = asyncio.create_task(self._follow(start))
            self.listeners.add(queue)
            self.following.set()
        try:
            while True:
                change = await queue.get()
                if change is None:
                    raise FeedLagged(
                        "Too many changes arrived at once; re-query, then subscribe again."
                    )
                yield change
        finally:
            self.listeners.discard(queue)
            if not self.listeners and self._task is not None:
                self._task.cancel()
                self._task = None
                self.following.clear()

    async def _follow(self, sequence: int) -> None:
        # Ids are handed out when a row is inserted, not when it commits: a transaction
        # that started first may commit after a later one, leaving a gap behind the read
        # position for a moment. Gaps are looked at again for GAP_SECONDS (a rolled-back
        # insert leaves one for ever).
        gaps: dict[int, float] = {}
        while True:
            try:
                now = time.monotonic()
                for missing in [i for i, seen in gaps.items() if now - seen > GAP_SECONDS]:
                    del gaps[missing]
                found = await changes_after(self.db, sequence, also=gaps)
                # Each changed invoice is read once for every subscriber of the process.
                invoices = (
                    await rows_by_id(self.db, Invoice, sorted({c.invoice_id for c in found}))
                    if found and self.listeners
                    else {}
                )
                for change in found:
                    delivery = Delivery(change, invoices.get(change.invoice_id))
                    if change.sequence in gaps:
                        del gaps[change.sequence]
                    else:
                        if change.sequence - sequence <= MAX_GAPS:
                            gaps.update((i, now) for i in range(sequence + 1, change.sequence))
                        sequence = change.sequence
                    for queue in list(self.listeners):
                        if queue.full():
                            self.listeners.discard(queue)
                            queue.get_nowait()
                            queue.put_nowait(None)  # lagged: end that subscription
                        else:
                            queue.put_nowait(delivery)
            except DATABASE_UNAVAILABLE:
                log.warning("invoice feed: database unavailable; retrying")
            await asyncio.sleep(self.poll_seconds)


@strawberry.type(description="An invoice that just changed, and what happened to it.")
class InvoiceChange:
    sequence: int = strawberry.field(
        description="The change's place in the invoice history of the whole system: increasing."
    )
    kind: EventKind
    invoice: InvoiceType


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "Every change of an invoice (generated, emailed, a payment, paid, voided, "
            "refunded, its PDF ready): system-wide for staff, or one customer's (`customerId`); a customer "
            "token receives only its own. Send the bearer token in connection_init's payload "
            '({"Authorization": "Bearer ..."}).'
        )
    )
    async def invoice_changed(
        self, info: Info, customer_id: strawberry.ID | None = None
    ) -> AsyncGenerator[InvoiceChange, None]:
        context = info.context
        viewer = context.viewer
        wanted = parse_id(customer_id) if customer_id is not None else None
        scope = viewer.customer_scope
        if customer_id is not None and (wanted is None or not viewer.can_see_customer(wanted)):
            return  # nothing to see: ends at once, as for a customer that does not exist
        feed: InvoiceFeed = context.request.app.state.invoice_feed
        live: LiveSessions = context.request.app.state.live_sessions
        with live.subscription(viewer):
            async for delivery in feed.changes():
                change = delivery.change
                if scope is not None and change.customer_id != scope:
                    continue
                if wanted is not None and change.customer_id != wanted:
                    continue
                # Fresh reads for every message (a subscription outlives any one request),
                # shared by this viewer's subscriptions on this process.
                context.loaders = delivery.loaders(context.runtime, viewer)
                if delivery.invoice is not None:
                    yield InvoiceChange(
                        sequence=change.sequence,
                        kind=change.kind,
                        invoice=InvoiceType.from_row(delivery.invoice, context),
                    )
