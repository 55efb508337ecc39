"""How many invoices bear each title (invoice_title_totals). An invoice issued, or given a
new title (voiding prefixes "Void: "), moves its title's count in the same transaction, so
a search's count of its matching titles reads a row per title: a broad term ("mobile
services") at a million invoices matched 54 titles and 120,000 invoices, whose index
entries the count read one by one (48 ms). `differences` is what `invoicing db check`
reports; titles are compared by the database, under the column's collation, as the search
compares them."""

from __future__ import annotations

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model.entities import Invoice, InvoiceTitleTotals
from domain.store.summaries import add_to, add_to_each


async def count_new(session: AsyncSession, title: str) -> None:
    await add_to(session, InvoiceTitleTotals, {"title": title}, {"invoice_count": 1})


async def retitle(session: AsyncSession, old: str, new: str) -> None:
    """One invoice's title changed from `old` to `new`."""
    if old != new:
        changes = {(old,): {"invoice_count": -1}, (new,): {"invoice_count": 1}}
        await add_to_each(session, InvoiceTitleTotals, ("title",), changes)


def rebuild(connection: Connection) -> int:
    """Count every title again from the invoices; how many titles there are."""
    connection.execute(delete(InvoiceTitleTotals))
    counted = select(Invoice.title, func.count()).group_by(Invoice.title)
    connection.execute(insert(InvoiceTitleTotals).from_select(["title", "invoice_count"], counted))
    return int(
        connection.execute(select(func.count()).select_from(InvoiceTitleTotals)).scalar_one()
    )


def differences(connection: Connection) -> list[str]:
    """The titles whose count is not the number of invoices bearing them."""
    counted = select(Invoice.title, func.count().label("bearing")).group_by(Invoice.title)
    bearing = counted.subquery()
    stored = InvoiceTitleTotals
    miscounted = (
        select(bearing.c.title)
        .outerjoin(stored, stored.title == bearing.c.title)
        .where(func.coalesce(stored.invoice_count, 0) != bearing.c.bearing)
    )
    borne_by_none = select(stored.title).where(
        stored.invoice_count != 0, ~exists().where(Invoice.title == stored.title)
    )
    found = set(connection.execute(miscounted).scalars())
    found |= set(connection.execute(borne_by_none).scalars())
    return sorted(found)
