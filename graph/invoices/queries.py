"""invoice, invoices, invoiceStats, invoicePreview."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.errors import NotFound
from domain.model import validation
from domain.queries import receivables
from domain.queries.billing_preview import preview_invoice
from domain.queries.invoices import get_invoice, list_invoices
from graph.context import Info
from graph.errors import found_or_null
from graph.ids import parse_id
from graph.invoices.inputs import InvoiceFilter, InvoicePreviewInput, InvoiceSort
from graph.invoices.preview import InvoicePreview
from graph.invoices.stats import Aging, InvoiceStats, stats_of
from graph.invoices.types import InvoicePage, InvoiceType
from graph.paging import AFTER, Page, page_request


async def invoice_page(
    info: Info,
    filter: InvoiceFilter | None,
    sort: InvoiceSort | None,
    page: int,
    per_page: int,
    customer_id: int | None = None,
    after: str | None = None,
) -> InvoicePage:
    """The invoices list, system-wide or (customer_id) one customer's tab."""
    ctx = info.context
    found = await list_invoices(
        ctx.db,
        ctx.viewer,
        (filter or InvoiceFilter()).to_domain(customer_id, ctx.today),
        (sort or InvoiceSort()).to_domain(),
        page_request(page, per_page, after),
        ctx.settings.business.zone,
    )
    return Page.of(found, lambda row: InvoiceType.from_row(row, ctx))


@strawberry.type
class InvoiceQueries:
    @strawberry.field(description=found_or_null("invoice"))
    async def invoice(self, info: Info, id: strawberry.ID) -> InvoiceType | None:
        invoice_id = parse_id(id)
        row = (
            await get_invoice(info.context.db, info.context.viewer, invoice_id)
            if invoice_id
            else None
        )
        return InvoiceType.from_row(row, info.context) if row else None

    @strawberry.field
    async def invoices(
        self,
        info: Info,
        filter: InvoiceFilter | None = None,
        sort: InvoiceSort | None = None,
        page: int = 1,
        per_page: int = 25,
        after: Annotated[str | None, AFTER] = None,
    ) -> InvoicePage:
        return await invoice_page(info, filter, sort, page, per_page, after=after)

    @strawberry.field(
        description="Stats widgets: system-wide, or for one customer when customerId is given; in one currency: `currency`, else the customer's, else business.currency_code."
    )
    async def invoice_stats(
        self, info: Info, customer_id: strawberry.ID | None = None, currency: str | None = None
    ) -> InvoiceStats:
        wanted = parse_id(customer_id) if customer_id is not None else None
        if customer_id is not None and wanted is None:
            raise NotFound("Customer", repr(str(customer_id)), "customer_id")
        stats = await stats_of(info, wanted, currency)
        if stats is None:
            raise NotFound("Customer", wanted, "customer_id")
        return stats

    @strawberry.field(
        description="Receivables aging: what is still due, by days past due (all customers, or one), in one currency: `currency`, else the customer's, else business.currency_code."
    )
    async def receivables_aging(
        self, info: Info, customer_id: strawberry.ID | None = None, currency: str | None = None
    ) -> Aging:
        ctx = info.context
        wanted = parse_id(customer_id) if customer_id is not None else None
        if customer_id is not None and wanted is None:
            raise NotFound("Customer", repr(str(customer_id)), "customer_id")
        code = validation.currency("currency", currency) if currency is not None else None
        found = await receivables.receivables_aging(ctx.db, ctx.settings, ctx.viewer, wanted, code)
        return Aging.from_domain(found)

    @strawberry.field(description="What generateInvoice would bill, without changing anything.")
    async def invoice_preview(self, info: Info, input: InvoicePreviewInput) -> InvoicePreview:
        ctx = info.context
        customer_id = parse_id(input.customer_id)
        if customer_id is None:
            raise NotFound("Customer", repr(str(input.customer_id)), "customer_id")
        preview = await preview_invoice(
            ctx.db,
            ctx.settings,
            ctx.viewer,
            customer_id,
            input.start_date,
            input.end_date,
            input.excluded(),
        )
        return InvoicePreview.from_domain(preview, ctx.settings)
