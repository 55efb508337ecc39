"""The live feed behind `invoiceChanged`: an event whose transaction commits after a later
one's (its id is lower than what the feed has already passed) still reaches subscribers."""

import asyncio

from sqlalchemy import func, select

from domain.config import Settings
from domain.model.access import SYSTEM
from domain.model.commands import GenerateRequest
from domain.model.entities import InvoiceEvent
from domain.model.enums import EventKind
from domain.services import billing
from domain.store.database import Database
from graph.subscriptions import InvoiceFeed
from tests.helpers import make_charge, make_customer


async def _event(db: Database, event_id: int, invoice_id: int, kind: EventKind) -> None:
    async with db.transaction() as session:
        session.add(InvoiceEvent(id=event_id, invoice_id=invoice_id, kind=kind.value, actor="t"))


async def test_an_event_committed_after_a_later_one_is_still_passed_on(db: Database) -> None:
    customer = await make_customer(db)
    await make_charge(db, customer.id)
    invoice = await billing.generate_invoice(
        db, Settings(), SYSTEM, GenerateRequest(customer_id=customer.id)
    )
    feed = InvoiceFeed(db, poll_seconds=0.05)
    received: asyncio.Queue[tuple[int, EventKind]] = asyncio.Queue()
    changes = feed.changes()
    # The first step of the subscription reads where the history ends and registers it.
    first = asyncio.ensure_future(anext(changes))
    await asyncio.wait_for(feed.following.wait(), 10)

    async def listen() -> None:
        delivery = await first
        while True:
            await received.put((delivery.change.sequence, delivery.change.kind))
            delivery = await anext(changes)

    listening = asyncio.create_task(listen())
    async with db.read() as session:
        last = int(await session.scalar(select(func.max(InvoiceEvent.id))) or 0)
    # Two transactions took ids last+1 and last+2; the second committed first.
    await _event(db, last + 2, invoice.id, EventKind.PAID)
    assert await asyncio.wait_for(received.get(), 10) == (last + 2, EventKind.PAID)
    await _event(db, last + 1, invoice.id, EventKind.EMAILED)
    assert await asyncio.wait_for(received.get(), 10) == (last + 1, EventKind.EMAILED)
    listening.cancel()
    await asyncio.gather(listening, return_exceptions=True)
    await changes.aclose()
