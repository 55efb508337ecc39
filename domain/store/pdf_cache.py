"""The rows of Invoice_PDF_Cache: read with their invoice, stored, touched, cleared, pruned."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from domain.config import PdfCacheSettings
from domain.model.entities import Customer, Invoice, InvoiceLine, InvoicePdfCache
from domain.model.enums import EventKind
from domain.store import invoice_events
from domain.store.database import Database

# Writing last_accessed on every download would turn reads into writes; a minute is fine
# for pruning that counts in days.
ACCESS_RESOLUTION = timedelta(minutes=1)
RENDERER = "renderer"  # who a PDF_READY event names


@dataclass(frozen=True)
class CachedPdf:
    """A cached PDF's metadata, without its bytes."""

    invoice_id: int
    sha256: str
    render_key: str
    created_at: datetime
    size_bytes: int
    page_count: int


@dataclass
class InvoiceWithPdf:
    """What deciding whether a cached PDF is current needs: the invoice, its customer, its
    lines (None when the caller already has them) and the cached PDF's metadata."""

    invoice: Invoice
    customer: Customer
    cached: CachedPdf
    lines: list[InvoiceLine] | None = field(default=None)


@dataclass(frozen=True)
class PruneReport:
    too_old: int
    idle: int
    over_size: int
    bytes_freed: int


async def with_invoice(
    db: Database, invoice_id: int, *, with_pdf: bool = True
) -> tuple[Invoice, Customer, InvoicePdfCache | None] | None:
    """The invoice, its customer and (`with_pdf`) its cached PDF, bytes included, in one
    query."""
    async with db.read() as session:
        if not with_pdf:
            pair = (
                await session.execute(
                    select(Invoice, Customer)
                    .join(Customer, Customer.id == Invoice.customer_id)
                    .where(Invoice.id == invoice_id)
                )
            ).one_or_none()
            return None if pair is None else (pair[0], pair[1], None)
        found = (
            await session.execute(
                select(Invoice, Customer, InvoicePdfCache)
                .join(Customer, Customer.id == Invoice.customer_id)
                .outerjoin(InvoicePdfCache, InvoicePdfCache.invoice_id == Invoice.id)
                .where(Invoice.id == invoice_id)
            )
        ).one_or_none()
    return None if found is None else (found[0], found[1], found[2])


def _lines_unless_known(lines_known: set[int]) -> ColumnElement[bool]:
    """Join an invoice's lines, but not those of invoices the caller remembers already."""
    condition: ColumnElement[bool] = InvoiceLine.invoice_id == Invoice.id
    if lines_known:
        condition = and_(condition, InvoiceLine.invoice_id.not_in(lines_known))
    return condition


async def invoices_with_lines(
    db: Database, invoice_ids: Sequence[int], lines_known: set[int]
) -> list[tuple[Invoice, Customer, list[InvoiceLine] | None]]:
    """Invoices with their customers, and the lines of those not in `lines_known` (None
    for those), in one query."""
    query = (
        select(Invoice, Customer, InvoiceLine)
        .join(Customer, Customer.id == Invoice.customer_id)
        .outerjoin(InvoiceLine, _lines_unless_known(lines_known))
        .where(Invoice.id.in_(set(invoice_ids)))
        .order_by(Invoice.id, InvoiceLine.position)
    )
    found: dict[int, tuple[Invoice, Customer]] = {}
    lines: dict[int, list[InvoiceLine]] = defaultdict(list)
    async with db.read() as session:
        for row in await session.execute(query):
            found.setdefault(row.Invoice.id, (row.Invoice, row.Customer))
            if row.InvoiceLine is not None:
                lines[row.Invoice.id].append(row.InvoiceLine)
    return [
        (invoice, customer, None if invoice.id in lines_known else lines.get(invoice.id, []))
        for invoice, customer in found.values()
    ]


async def lines_of(db: Database, invoice_id: int) -> list[InvoiceLine]:
    async with db.read() as session:
        rows = await session.execute(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice_id)
            .order_by(InvoiceLine.position)
        )
        return list(rows.scalars())


async def statuses_with_invoices(
    db: Database, invoice_ids: Sequence[int], lines_known: set[int]
) -> dict[int, InvoiceWithPdf]:
    """Every cached PDF of these invoices with what its staleness depends on, in one query:
    the lines are joined only for invoices not in `lines_known`."""
    columns = (
        InvoicePdfCache.invoice_id,
        InvoicePdfCache.sha256,
        InvoicePdfCache.render_key,
        InvoicePdfCache.created_at,
        InvoicePdfCache.size_bytes,
        InvoicePdfCache.page_count,
    )
    query = (
        select(*columns, Invoice, Customer, InvoiceLine)
        .select_from(InvoicePdfCache)
        .join(Invoice, Invoice.id == InvoicePdfCache.invoice_id)
        .join(Customer, Customer.id == Invoice.customer_id)
        .outerjoin(InvoiceLine, _lines_unless_known(lines_known))
        .where(InvoicePdfCache.invoice_id.in_(set(invoice_ids)))
        .order_by(InvoicePdfCache.invoice_id, InvoiceLine.position)
    )
    found: dict[int, InvoiceWithPdf] = {}
    lines: dict[int, list[InvoiceLine]] = defaultdict(list)
    async with db.read() as session:
        for row in await session.execute(query):
            invoice_id = row[0]
            if invoice_id not in found:
                cached = CachedPdf(*row[:6])
                found[invoice_id] = InvoiceWithPdf(row.Invoice, row.Customer, cached)
            if row.InvoiceLine is not None:
                lines[invoice_id].append(row.InvoiceLine)
    for invoice_id, entry in found.items():
        if invoice_id not in lines_known:
            entry.lines = lines.get(invoice_id, [])
    return found


async def stored(db: Database, invoice_id: int) -> InvoicePdfCache | None:
    async with db.read() as session:
        return (
            await session.execute(
                select(InvoicePdfCache).where(InvoicePdfCache.invoice_id == invoice_id)
            )
        ).scalar_one_or_none()


async def store(db: Database, row: InvoicePdfCache) -> bool:
    """Replace the invoice's cached PDF and note in its history that the PDF is ready (for
    subscribers and webhooks); False if another process stored one at the same moment
    (either is good)."""
    pages = f"{row.page_count} page{'' if row.page_count == 1 else 's'}"
    try:
        async with db.transaction() as session:
            await session.execute(
                delete(InvoicePdfCache).where(InvoicePdfCache.invoice_id == row.invoice_id)
            )
            session.add(row)
            invoice_events.record(
                session, row.invoice_id, EventKind.PDF_READY, RENDERER, f"{pages}, {row.filename}"
            )
    except IntegrityError:
        return False
    return True


async def touch(db: Database, cached: InvoicePdfCache) -> None:
    now = db.now()
    if now - cached.last_accessed > ACCESS_RESOLUTION:
        async with db.transaction() as session:
            await session.execute(
                update(InvoicePdfCache)
                .where(InvoicePdfCache.id == cached.id)
                .values(last_accessed=now)
            )


async def clear(db: Database, invoice_id: int | None = None) -> int:
    async with db.transaction() as session:
        query = delete(InvoicePdfCache)
        if invoice_id is not None:
            query = query.where(InvoicePdfCache.invoice_id == invoice_id)
        cleared = cast(CursorResult[Any], await session.execute(query))
        return cleared.rowcount


async def prune(db: Database, limits: PdfCacheSettings, now: datetime) -> PruneReport:
    """Drop PDFs too old, idle too long, then the least recently used beyond the size cap."""
    async with db.transaction() as session:
        freed = 0

        async def drop(condition: ColumnElement[bool]) -> int:
            nonlocal freed
            size = (
                await session.execute(
                    select(func.coalesce(func.sum(InvoicePdfCache.size_bytes), 0)).where(condition)
                )
            ).scalar_one()
            freed += int(size)
            deleting = delete(InvoicePdfCache).where(condition)
            dropped = cast(CursorResult[Any], await session.execute(deleting))
            return dropped.rowcount

        too_old = await drop(InvoicePdfCache.created_at < now - timedelta(days=limits.max_age_days))
        idle = await drop(
            InvoicePdfCache.last_accessed < now - timedelta(days=limits.max_idle_days)
        )
        cap = limits.max_total_mb * 1024 * 1024
        rows = (
            await session.execute(
                select(InvoicePdfCache.id, InvoicePdfCache.size_bytes).order_by(
                    InvoicePdfCache.last_accessed.desc(), InvoicePdfCache.id.desc()
                )
            )
        ).all()
        kept, evict = 0, []
        for row_id, size in rows:
            kept += size
            if kept > cap:  # this one and every one used less recently
                evict.append(row_id)
        over_size = await drop(InvoicePdfCache.id.in_(evict)) if evict else 0
    return PruneReport(too_old, idle, over_size, freed)
