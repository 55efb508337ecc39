from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import strawberry

from domain import invoices
from domain.errors import DomainError
from domain.invoice_events import EventKind
from domain.models import Invoice, InvoiceLine, InvoiceStatus, PaymentMethodKind
from graph.context import Context, Info
from graph.errors import UserError, query_error
from graph.ids import parse_id
from graph.types.customers import CustomerType

InvoiceStatusEnum = strawberry.enum(InvoiceStatus, name="InvoiceStatus")
PaymentMethodKindEnum = strawberry.enum(PaymentMethodKind, name="PaymentMethodKind")
InvoiceActionEnum = strawberry.enum(invoices.Action, name="InvoiceAction")
VoidFilterEnum = strawberry.enum(invoices.VoidFilter, name="VoidFilter")
PaymentFilterEnum = strawberry.enum(
    invoices.PaymentFilter,
    name="PaymentFilter",
    description="PAID: status PAID or REFUNDED. UNPAID: status UNPAID.",
)
InvoiceSortFieldEnum = strawberry.enum(invoices.SortField, name="InvoiceSortField")


@strawberry.enum
class SortDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.type(
    name="InvoiceLine", description="One billed line, frozen when the invoice was generated."
)
class InvoiceLineType:
    transaction_id: strawberry.ID
    created_at: datetime
    title: str
    description: str
    retail_cost: Decimal
    tax_percentage: Decimal
    tax_amount: Decimal
    tax_display: str = strawberry.field(
        description='As shown in the details modal: "$10.00 (10%)", or "-".'
    )

    @classmethod
    def from_row(cls, row: InvoiceLine, currency_symbol: str) -> InvoiceLineType:
        return cls(
            transaction_id=strawberry.ID(str(row.transaction_id)),
            created_at=row.created_at,
            title=row.title,
            description=row.description,
            retail_cost=row.retail_cost,
            tax_percentage=row.tax_percentage,
            tax_amount=row.tax_amount,
            tax_display=invoices.tax_display(row, currency_symbol),
        )


@strawberry.type(description="The cached PDF of an invoice, as it was last rendered.")
class InvoicePdf:
    hash: str = strawberry.field(description="SHA-256 of the PDF bytes (also its download ETag).")
    rendered_at: datetime
    stale: bool = strawberry.field(
        description="The invoice or its template changed since; the next download re-renders."
    )
    size_bytes: int
    page_count: int


InvoiceEventKindEnum = strawberry.enum(EventKind, name="InvoiceEventKind")


@strawberry.type(description="Something that happened to an invoice.")
class InvoiceEvent:
    kind: InvoiceEventKindEnum  # type: ignore[valid-type]
    at: datetime
    actor: str = strawberry.field(description='Who did it: the API token\'s name, or "stripe".')
    message: str


@strawberry.type(name="Invoice")
class InvoiceType:
    id: strawberry.ID
    number: str = strawberry.field(description="Human invoice number, e.g. INV-2025-001234.")
    title: str
    start_date: date | None
    end_date: date | None
    period: str = strawberry.field(
        description='"2025-01-01 - 2025-01-31", or "N/A" without a period.'
    )
    due_date: date
    created_at: datetime
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    status: InvoiceStatusEnum  # type: ignore[valid-type]
    void: bool
    paid_at: datetime | None
    payment_method: PaymentMethodKindEnum | None  # type: ignore[valid-type]
    payment_reference: str | None
    refund_reference: str | None
    line_count: int
    actions: list[InvoiceActionEnum]  # type: ignore[valid-type]
    pdf_url: str
    pay_url: str
    row_id: strawberry.Private[int]
    customer_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Invoice, context: Context) -> InvoiceType:
        settings = context.settings
        return cls(
            id=strawberry.ID(str(row.id)),
            number=row.number or "",
            title=row.title,
            start_date=row.start_date,
            end_date=row.end_date,
            period=invoices.period_text(row),
            due_date=row.due_date,
            created_at=row.created_at,
            subtotal=row.subtotal,
            tax=row.tax,
            total=row.total,
            status=row.status,
            void=row.void,
            paid_at=row.paid_at,
            payment_method=row.payment_method,
            payment_reference=row.payment_reference,
            refund_reference=row.refund_reference,
            line_count=row.line_count,
            actions=invoices.actions_for(row, context.viewer),
            pdf_url=invoices.pdf_url(settings, row.id),
            pay_url=invoices.pay_url(settings, row),
            row_id=row.id,
            customer_id=row.customer_id,
        )

    @strawberry.field
    async def customer(self, info: Info) -> CustomerType:
        row = await info.context.loaders.customer.load(self.customer_id)
        assert row is not None  # a foreign key guarantees it
        return CustomerType.from_row(row)

    @strawberry.field(description="The cached PDF's freshness; null before the first render.")
    async def pdf(self, info: Info) -> InvoicePdf | None:
        status = await info.context.pdf_status.load(self.row_id)
        if status is None:
            return None
        return InvoicePdf(
            hash=status.sha256,
            rendered_at=status.rendered_at,
            stale=status.stale,
            size_bytes=status.size_bytes,
            page_count=status.page_count,
        )

    @strawberry.field(description="The invoice's history, oldest first.")
    async def events(self, info: Info) -> list[InvoiceEvent]:
        rows = await info.context.loaders.invoice_events.load(self.row_id)
        return [
            InvoiceEvent(kind=EventKind(r.kind), at=r.created_at, actor=r.actor, message=r.message)
            for r in rows
        ]

    @strawberry.field
    async def lines(self, info: Info) -> list[InvoiceLineType]:
        symbol = info.context.settings.business.currency_symbol
        return [
            InvoiceLineType.from_row(line, symbol)
            for line in await info.context.loaders.invoice_lines.load(self.row_id)
        ]


@strawberry.type
class InvoicePage:
    items: list[InvoiceType]
    total_count: int
    page: int
    per_page: int
    total_pages: int


@strawberry.input
class InvoiceFilter:
    customer_id: strawberry.ID | None = None
    search: str | None = strawberry.field(
        default=None,
        description="Matches the invoice id or number, the title, and (system-wide view) the customer name.",
    )
    void: VoidFilterEnum = invoices.VoidFilter.ALL  # type: ignore[valid-type]
    payment: PaymentFilterEnum = invoices.PaymentFilter.ALL  # type: ignore[valid-type]
    status: InvoiceStatusEnum | None = None  # type: ignore[valid-type]

    def to_domain(self, customer_id: int | None = None) -> invoices.InvoiceFilter:
        if customer_id is None and self.customer_id is not None:
            # An ID that cannot be ours matches nothing rather than everything.
            customer_id = parse_id(self.customer_id) or -1
        return invoices.InvoiceFilter(
            customer_id=customer_id,
            search=self.search,
            void=self.void,
            payment=self.payment,
            status=self.status,
        )


@strawberry.input
class InvoiceSort:
    field: InvoiceSortFieldEnum = invoices.SortField.CREATED  # type: ignore[valid-type]
    direction: SortDirection = SortDirection.DESC

    def to_domain(self) -> invoices.InvoiceSort:
        return invoices.InvoiceSort(
            field=self.field, descending=self.direction == SortDirection.DESC
        )


@strawberry.input
class GenerateInvoiceInput:
    customer_id: strawberry.ID
    title: str | None = strawberry.field(
        default=None,
        description='Default: "Invoice for <start> - <end>" in the customer\'s language.',
    )
    start_date: date | None = strawberry.field(
        default=None, description="Default: 14 days before today."
    )
    end_date: date | None = strawberry.field(default=None, description="Default: today.")
    due_date: date | None = strawberry.field(default=None, description="Default: today.")
    transaction_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Bill exactly these (each unbilled, the customer's, in the period).",
    )
    excluded_transaction_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Repeating a request with the same key returns the first result instead of billing twice.",
    )


@strawberry.input
class PayInvoiceInput:
    invoice_id: strawberry.ID
    method: PaymentMethodKindEnum  # type: ignore[valid-type]
    reference: str | None = strawberry.field(
        default=None, description='Free text for manual methods ("Cash paid 2025-01-15").'
    )
    payment_method_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="For STRIPE: the saved card to charge; default: the customer's default card.",
    )
    idempotency_key: str | None = None


@strawberry.input
class BillingRunInput:
    start_date: date
    end_date: date
    due_date: date
    customer_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Default: every customer with unbilled charges in the period."
    )


@strawberry.type
class InvoicePayload:
    invoice: InvoiceType | None
    errors: list[UserError]


@strawberry.type
class EmailInvoicePayload:
    invoice: InvoiceType | None
    recipients: list[str] = strawberry.field(description="The addresses the invoice was sent to.")
    errors: list[UserError]


@strawberry.type
class ClearPdfCachePayload:
    cleared: int
    errors: list[UserError]


@strawberry.type
class BillingRunPayload:
    invoices: list[InvoiceType]
    skipped_customer_ids: list[strawberry.ID] = strawberry.field(
        description="Customers that had nothing to bill."
    )
    errors: list[UserError]


async def resolve_invoice_page(
    info: Info,
    filter: InvoiceFilter | None,
    sort: InvoiceSort | None,
    page: int,
    per_page: int,
    customer_id: int | None = None,
) -> InvoicePage:
    """The invoices list, system-wide or (customer_id) one customer's tab."""
    from domain.pagination import PageRequest

    ctx = info.context
    try:
        result = await invoices.list_invoices(
            ctx.db,
            ctx.viewer,
            (filter or InvoiceFilter()).to_domain(customer_id),
            (sort or InvoiceSort()).to_domain(),
            PageRequest(page=page, per_page=per_page),
        )
    except DomainError as error:
        raise query_error(error) from None
    return InvoicePage(
        items=[InvoiceType.from_row(row, ctx) for row in result.items],
        total_count=result.total_count,
        page=result.page,
        per_page=result.per_page,
        total_pages=result.total_pages,
    )
