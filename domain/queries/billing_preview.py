"""invoicePreview and its DRAFT PDF: exactly what generateInvoice would bill with the same
inputs, changing nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.config import Settings
from domain.errors import NotFound
from domain.model.access import Viewer
from domain.model.entities import Customer, Transaction
from domain.model.invoice_rules import ensure_exclusions_known, line_totals
from domain.model.periods import Period, local_day, resolve_period
from domain.rendering.documents import InvoiceDocument, draft_document
from domain.store.charges import unbilled_charges_query
from domain.store.database import Database


@dataclass(frozen=True)
class PreviewLine:
    transaction: Transaction
    included: bool


@dataclass(frozen=True)
class Preview:
    period: Period
    customer: Customer
    lines: list[PreviewLine]

    @property
    def included(self) -> list[Transaction]:
        return [line.transaction for line in self.lines if line.included]

    @property
    def excluded_ids(self) -> list[int]:
        return [line.transaction.id for line in self.lines if not line.included]

    def _totals(self) -> tuple[Decimal, Decimal, Decimal]:
        charges = self.included
        return line_totals([t.retail_cost for t in charges], [t.tax_amount for t in charges])

    @property
    def subtotal(self) -> Decimal:
        return self._totals()[0]

    @property
    def tax(self) -> Decimal:
        return self._totals()[1]

    @property
    def total(self) -> Decimal:
        return self._totals()[2]


async def preview_invoice(
    db: Database,
    settings: Settings,
    viewer: Viewer,
    customer_id: int,
    start: date | None = None,
    end: date | None = None,
    excluded_ids: Sequence[int] = (),
) -> Preview:
    zone = settings.business.zone
    period = resolve_period(local_day(db.now(), zone), start, end)
    if not viewer.can_see_customer(customer_id):
        raise NotFound("Customer", customer_id, "customer_id")
    excluded = set(excluded_ids)
    async with db.read() as session:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise NotFound("Customer", customer_id, "customer_id")
        query = unbilled_charges_query(customer_id, zone, period.start, period.end)
        rows = (await session.execute(query)).scalars().all()
    ensure_exclusions_known(excluded, (row.id for row in rows))
    return Preview(period, customer, [PreviewLine(row, row.id not in excluded) for row in rows])


def preview_document(db: Database, settings: Settings, preview: Preview) -> InvoiceDocument:
    """The DRAFT document of a preview: issued now, due today, never stored."""
    now = db.now()
    return draft_document(
        preview.period,
        preview.customer,
        preview.included,
        issued_at=now,
        due=local_day(now, settings.business.zone),
    )
