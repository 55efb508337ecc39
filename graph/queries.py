"""The Query root: each field reads through a domain service scoped to the viewer."""

from __future__ import annotations

import strawberry

from domain import billing, customers, invoices, products, transactions
from domain.errors import DomainError, NotFound
from domain.pagination import PageRequest
from graph.context import Info
from graph.errors import query_error
from graph.ids import parse_id
from graph.types.customers import CustomerPage, CustomerType
from graph.types.invoices import (
    InvoiceFilter,
    InvoicePage,
    InvoiceSort,
    InvoiceType,
    resolve_invoice_page,
)
from graph.types.preview import InvoicePreview, InvoicePreviewInput
from graph.types.products import ProductType
from graph.types.stats import InvoiceStats, resolve_invoice_stats
from graph.types.transactions import TransactionFilter, TransactionPage, TransactionType
from graph.types.viewer import Viewer


def page_request(page: int, per_page: int) -> PageRequest:
    try:
        return PageRequest(page=page, per_page=per_page)
    except DomainError as error:
        raise query_error(error) from None


@strawberry.type
class Query:
    @strawberry.field
    def viewer(self, info: Info) -> Viewer:
        viewer = info.context.viewer
        return Viewer(role=viewer.role, name=viewer.name, customer_id=viewer.customer_id)

    @strawberry.field
    async def customer(self, info: Info, id: strawberry.ID) -> CustomerType | None:
        customer_id = parse_id(id)
        if customer_id is None:
            return None
        row = await customers.get_customer(info.context.db, info.context.viewer, customer_id)
        return CustomerType.from_row(row) if row else None

    @strawberry.field
    async def customers(
        self, info: Info, search: str | None = None, page: int = 1, per_page: int = 25
    ) -> CustomerPage:
        result = await customers.list_customers(
            info.context.db, info.context.viewer, search, page_request(page, per_page)
        )
        return CustomerPage(
            items=[CustomerType.from_row(row) for row in result.items],
            total_count=result.total_count,
            page=result.page,
            per_page=result.per_page,
            total_pages=result.total_pages,
        )

    @strawberry.field
    async def product(self, info: Info, id: strawberry.ID) -> ProductType | None:
        product_id = parse_id(id)
        row = await products.get_product(info.context.db, product_id) if product_id else None
        return ProductType.from_row(row) if row else None

    @strawberry.field
    async def products(self, info: Info) -> list[ProductType]:
        return [ProductType.from_row(row) for row in await products.list_products(info.context.db)]

    @strawberry.field
    async def transaction(self, info: Info, id: strawberry.ID) -> TransactionType | None:
        transaction_id = parse_id(id)
        if transaction_id is None:
            return None
        row = await transactions.get_transaction(
            info.context.db, info.context.viewer, transaction_id
        )
        return TransactionType.from_row(row) if row else None

    @strawberry.field
    async def transactions(
        self, info: Info, filter: TransactionFilter | None = None, page: int = 1, per_page: int = 25
    ) -> TransactionPage:
        given = filter or TransactionFilter()
        criteria = transactions.TransactionFilter(
            customer_id=parse_id(given.customer_id) if given.customer_id is not None else None,
            billed=given.billed,
            start_date=given.start_date,
            end_date=given.end_date,
            search=given.search,
        )
        if given.customer_id is not None and criteria.customer_id is None:
            criteria = transactions.TransactionFilter(customer_id=-1)  # an ID that names nothing
        try:
            result = await transactions.list_transactions(
                info.context.db,
                info.context.viewer,
                info.context.settings.business.zone,
                criteria,
                page_request(page, per_page),
            )
        except DomainError as error:
            raise query_error(error) from None
        return TransactionPage(
            items=[TransactionType.from_row(row) for row in result.items],
            total_count=result.total_count,
            page=result.page,
            per_page=result.per_page,
            total_pages=result.total_pages,
        )

    @strawberry.field
    async def invoice(self, info: Info, id: strawberry.ID) -> InvoiceType | None:
        invoice_id = parse_id(id)
        row = (
            await invoices.get_invoice(info.context.db, info.context.viewer, invoice_id)
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
    ) -> InvoicePage:
        return await resolve_invoice_page(info, filter, sort, page, per_page)

    @strawberry.field(
        description="Stats widgets: system-wide, or for one customer when customerId is given."
    )
    async def invoice_stats(
        self, info: Info, customer_id: strawberry.ID | None = None
    ) -> InvoiceStats:
        wanted = parse_id(customer_id) if customer_id is not None else None
        if customer_id is not None and wanted is None:
            raise query_error(NotFound("Customer", repr(str(customer_id)), "customer_id"))
        stats = await resolve_invoice_stats(info, wanted)
        if stats is None:
            raise query_error(NotFound("Customer", wanted, "customer_id"))
        return stats

    @strawberry.field(description="What generateInvoice would bill, without changing anything.")
    async def invoice_preview(self, info: Info, input: InvoicePreviewInput) -> InvoicePreview:
        ctx = info.context
        customer_id = parse_id(input.customer_id)
        try:
            if customer_id is None:
                raise NotFound("Customer", repr(str(input.customer_id)), "customer_id")
            preview = await billing.preview_invoice(
                ctx.db,
                ctx.settings,
                ctx.viewer,
                customer_id,
                input.start_date,
                input.end_date,
                [i for i in map(parse_id, input.excluded_transaction_ids) if i is not None],
            )
        except DomainError as error:
            raise query_error(error) from None
        return InvoicePreview.from_domain(preview, customer_id, ctx.settings.server.public_url)
