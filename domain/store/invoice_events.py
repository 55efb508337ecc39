"""An invoice's history: every generate, email, payment attempt, payment, void, refund and
webhook, with who did it (the token's name and, for a customer's own token, its customer; or
"stripe") and the detail that explains it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import DomainError
from domain.model.access import Actor, actor_customer, actor_name
from domain.model.entities import Invoice, InvoiceEvent, WebhookOutbox
from domain.model.enums import EventKind
from domain.model.webhooks import ANNOUNCED
from domain.store.database import Database


def record(
    session: AsyncSession,
    invoice_id: int,
    kind: EventKind,
    actor: Actor,
    message: str = "",
    *,
    announce: bool = True,
) -> InvoiceEvent:
    """Add the event to the unit of work; it is stamped with the unit of work's clock. An
    event integrators can subscribe to also goes to the webhook outbox, in the same
    transaction (`announce=False` for a claim whose outcome `settle` will announce)."""
    event = InvoiceEvent(
        invoice_id=invoice_id,
        kind=kind.value,
        actor=actor_name(actor)[:100],
        actor_customer_id=actor_customer(actor),
        message=message,
    )
    session.add(event)
    if announce and kind in ANNOUNCED:
        session.add(WebhookOutbox(event=event))
    return event


async def settle(db: Database, event_id: int, kind: EventKind, message: str) -> None:
    """Turn an event recorded before a provider call into what the call did."""
    async with db.transaction() as session:
        await session.execute(
            update(InvoiceEvent)
            .where(InvoiceEvent.id == event_id)
            .values(kind=kind.value, message=message)
        )
        if kind in ANNOUNCED:
            session.add(WebhookOutbox(event_id=event_id))


async def count_since(
    session: AsyncSession,
    invoice_id: int,
    kinds: tuple[EventKind, ...],
    since: datetime,
    customer_id: int | None = None,
) -> int:
    """How many such events the invoice had since then (by that customer's own tokens)."""
    query = select(func.count()).where(
        InvoiceEvent.invoice_id == invoice_id,
        InvoiceEvent.kind.in_([kind.value for kind in kinds]),
        InvoiceEvent.created_at >= since,
    )
    if customer_id is not None:
        query = query.where(InvoiceEvent.actor_customer_id == customer_id)
    return int((await session.execute(query)).scalar_one())


async def record_alone(
    db: Database, invoice_id: int, kind: EventKind, actor: Actor, message: str = ""
) -> None:
    """For outcomes whose own transaction rolled back (a declined card, a failed email)."""
    async with db.transaction() as session:
        record(session, invoice_id, kind, actor, message)


@dataclass
class Refusal(Exception):
    """A refusal to keep in the invoice's history although its transaction rolls back (a
    declined card, a provider that failed): raised inside `refusals_recorded`."""

    invoice_id: int
    kind: EventKind
    error: DomainError


@asynccontextmanager
async def refusals_recorded(db: Database, actor: Actor) -> AsyncIterator[None]:
    """Record each Refusal raised in the block in its own transaction, then raise its
    DomainError for the caller to answer."""
    try:
        yield
    except Refusal as refusal:
        await record_alone(db, refusal.invoice_id, refusal.kind, actor, refusal.error.message)
        raise refusal.error from None


async def count(session: AsyncSession, invoice_id: int, kind: EventKind) -> int:
    query = select(func.count()).where(
        InvoiceEvent.invoice_id == invoice_id, InvoiceEvent.kind == kind.value
    )
    return int((await session.execute(query)).scalar_one())


@dataclass(frozen=True)
class Change:
    """An event as the live feed passes it on: which invoice, whose, what, in what order."""

    sequence: int  # the event's id: increasing, so a client knows what it has seen
    invoice_id: int
    customer_id: int
    kind: EventKind


async def latest_sequence(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.coalesce(func.max(InvoiceEvent.id), 0))) or 0)


async def changes_after(
    db: Database, sequence: int, limit: int = 500, also: Collection[int] = ()
) -> list[Change]:
    """The events recorded after `sequence`, and those of the ids in `also` (gaps below
    it that may still commit), oldest first (the primary key serves it)."""
    wanted = InvoiceEvent.id > sequence
    if also:
        wanted = or_(wanted, InvoiceEvent.id.in_(list(also)))
    async with db.read() as session:
        rows = await session.execute(
            select(InvoiceEvent.id, InvoiceEvent.invoice_id, Invoice.customer_id, InvoiceEvent.kind)
            .join(Invoice, Invoice.id == InvoiceEvent.invoice_id)
            .where(wanted)
            .order_by(InvoiceEvent.id)
            .limit(limit)
        )
        return [
            Change(i, invoice, customer, EventKind(kind)) for i, invoice, customer, kind in rows
        ]
