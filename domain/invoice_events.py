"""An invoice's history: every generate, email, payment attempt, payment, void, refund and
webhook, with who did it (the token's name, or "stripe") and the detail that explains it."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.db import Database, utcnow
from domain.models import InvoiceEvent


class EventKind(enum.StrEnum):
    GENERATED = "GENERATED"
    EMAILED = "EMAILED"
    EMAIL_FAILED = "EMAIL_FAILED"
    PAYMENT_SUCCEEDED = "PAYMENT_SUCCEEDED"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    PAID = "PAID"
    VOIDED = "VOIDED"
    REFUNDED = "REFUNDED"
    WEBHOOK = "WEBHOOK"


def record(
    session: AsyncSession, invoice_id: int, kind: EventKind, actor: str, message: str = ""
) -> None:
    session.add(
        InvoiceEvent(
            invoice_id=invoice_id,
            kind=kind.value,
            actor=actor[:100],
            message=message,
            created_at=utcnow(),
        )
    )


async def record_alone(
    db: Database, invoice_id: int, kind: EventKind, actor: str, message: str = ""
) -> None:
    """For outcomes whose own transaction rolled back (a declined card, a failed email)."""
    async with db.transaction() as session:
        record(session, invoice_id, kind, actor, message)


async def count(session: AsyncSession, invoice_id: int, kind: EventKind) -> int:
    query = select(func.count()).where(
        InvoiceEvent.invoice_id == invoice_id, InvoiceEvent.kind == kind.value
    )
    return (await session.execute(query)).scalar_one()


async def events_by_invoice(
    db: Database, invoice_ids: Iterable[int]
) -> dict[int, list[InvoiceEvent]]:
    found: dict[int, list[InvoiceEvent]] = defaultdict(list)
    async with db.read() as session:
        rows = await session.execute(
            select(InvoiceEvent)
            .where(InvoiceEvent.invoice_id.in_(set(invoice_ids)))
            .order_by(InvoiceEvent.id)
        )
        for event in rows.scalars():
            found[event.invoice_id].append(event)
    return found
