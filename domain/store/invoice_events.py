"""An invoice's history: every generate, email, payment attempt, payment, void, refund and
webhook, with who did it (the token's name, or "stripe") and the detail that explains it."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model.entities import InvoiceEvent
from domain.model.enums import EventKind
from domain.store.database import Database


def record(
    session: AsyncSession, invoice_id: int, kind: EventKind, actor: str, message: str = ""
) -> None:
    """Add the event to the unit of work; it is stamped with the unit of work's clock."""
    session.add(
        InvoiceEvent(invoice_id=invoice_id, kind=kind.value, actor=actor[:100], message=message)
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
    return int((await session.execute(query)).scalar_one())
