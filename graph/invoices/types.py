"""Invoice, its lines, history and cached PDF."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry

from domain.model.access import Viewer, actor_as_seen_by
from domain.model.dunning import days_overdue, is_overdue
from domain.model.einvoice import BrokenRule, EInvoiceStatus, TaxCategory, tax_category
from domain.model.entities import Installment, Invoice, InvoiceEvent, InvoiceLine, Payment
from domain.model.enums import EInvoiceFormat
from domain.model.formatting import Formatter
from domain.model.invoice_rules import actions_for, is_credit_note, period_text, tax_display
from domain.model.payments import amount_due
from domain.model.pdfs import PdfStatus
from domain.queries.invoices import InvoiceRow
from domain.rendering.links import pay_url, pdf_url, share_url
from graph.context import Context, Info
from graph.customers.types import CustomerType
from graph.enums import Action, EventKind, InvoiceStatus, PaymentMethodKind
from graph.paging import Page


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
    tax_category: TaxCategory = strawberry.field(
        description="The line's tax category in its e-invoice: S (taxed), Z (zero rated: untaxed), E (exempt: untaxed, for the reason given)."
    )
    tax_exemption_reason: str | None
    credited_invoice_number: str | None = strawberry.field(
        description="For a credit: the earlier invoice it corrects, as cited when billed."
    )

    @classmethod
    def from_row(cls, row: InvoiceLine, formatter: Formatter) -> InvoiceLineType:
        return cls(
            transaction_id=strawberry.ID(str(row.transaction_id)),
            created_at=row.created_at,
            title=row.title,
            description=row.description,
            retail_cost=row.retail_cost,
            tax_percentage=row.tax_percentage,
            tax_amount=row.tax_amount,
            tax_display=tax_display(row, formatter),
            tax_category=tax_category(row.tax_percentage, row.tax_exemption_reason),
            tax_exemption_reason=row.tax_exemption_reason,
            credited_invoice_number=row.credited_invoice_number,
        )


@strawberry.type(
    name="EInvoiceRuleFailure",
    description="A rule an e-invoice breaks: an EN 16931 business rule (BR-CO-10), a syntax rule (UBL-SR-12, CII-SR-…), a Peppol rule (PEPPOL-EN16931-R010), the XML schema (XSD), or our own check of the invoice's data (CRM-…).",
)
class EInvoiceRuleFailure:
    rule: str
    location: str = strawberry.field(description="Where in the XML (an XPath), or the field.")
    message: str

    @classmethod
    def of(cls, failure: BrokenRule) -> EInvoiceRuleFailure:
        return cls(rule=failure.rule, location=failure.location, message=failure.text)


@strawberry.type(
    name="EInvoice",
    description="The invoice as an EN 16931 e-invoice: Factur-X (CII inside the PDF/A-3 PDF) or UBL (Peppol BIS Billing 3.0 when both parties have an electronic address).",
)
class EInvoiceType:
    format: EInvoiceFormat
    url: str | None = strawberry.field(
        description="Where to fetch it with the same bearer token: the UBL download, or the PDF for Factur-X (when it is the customer's format). Null while it breaks a rule: it is not handed out then."
    )
    valid: bool = strawberry.field(
        description="It passes the XML schema and every EN 16931 rule (and Peppol's, when it claims Peppol BIS)."
    )
    peppol: bool = strawberry.field(description="The UBL claims Peppol BIS Billing 3.0.")
    errors: list[EInvoiceRuleFailure] = strawberry.field(
        description="The rules it breaks (fatal): what to fix before it is valid."
    )
    warnings: list[EInvoiceRuleFailure]

    @classmethod
    def of(cls, status: EInvoiceStatus) -> EInvoiceType:
        return cls(
            format=status.format,
            url=status.url,
            valid=status.valid,
            peppol=status.peppol,
            errors=[EInvoiceRuleFailure.of(f) for f in status.errors],
            warnings=[EInvoiceRuleFailure.of(f) for f in status.warnings],
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

    @classmethod
    def from_status(cls, status: PdfStatus) -> InvoicePdf:
        return cls(
            hash=status.sha256,
            rendered_at=status.rendered_at,
            stale=status.stale,
            size_bytes=status.size_bytes,
            page_count=status.page_count,
        )


@strawberry.type(name="InvoiceEvent", description="Something that happened to an invoice.")
class InvoiceEventType:
    kind: EventKind
    at: datetime
    actor: str = strawberry.field(
        description='Who did it. Staff see the API token\'s name, or "stripe"; a customer '
        'sees "you" for its own actions and "staff" for everyone else\'s.'
    )
    message: str

    @classmethod
    def from_row(cls, row: InvoiceEvent, viewer: Viewer) -> InvoiceEventType:
        return cls(
            kind=EventKind(row.kind),
            at=row.created_at,
            actor=actor_as_seen_by(viewer, row.actor, row.actor_customer_id),
            message=row.message,
        )


@strawberry.type(
    name="Payment",
    description="Money received for an invoice: one of several for an invoice paid in parts.",
)
class PaymentType:
    id: strawberry.ID
    amount: Decimal
    method: PaymentMethodKind
    reference: str | None = strawberry.field(
        description="The card payment's id at the provider, or what staff recorded."
    )
    paid_at: datetime
    refunded_amount: Decimal = strawberry.field(
        description="What of this payment was given back (refundInvoice, or at the provider)."
    )
    refund_reference: str | None

    @classmethod
    def from_row(cls, row: Payment) -> PaymentType:
        return cls(
            id=strawberry.ID(str(row.id)),
            amount=row.amount,
            method=row.method,
            reference=row.reference,
            paid_at=row.paid_at,
            refunded_amount=row.refunded_amount,
            refund_reference=row.refund_reference,
        )


@strawberry.type(
    name="Installment",
    description="One part of an invoice's payment plan; payments fill the installments in order.",
)
class InstallmentType:
    due_date: date
    amount: Decimal
    amount_paid: Decimal

    @classmethod
    def from_row(cls, row: Installment) -> InstallmentType:
        return cls(due_date=row.due_date, amount=row.amount, amount_paid=row.amount_paid)


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
    currency: str = strawberry.field(
        description="ISO 4217: what its amounts are in, its customer's currency (EUR, JPY)."
    )
    status: InvoiceStatus
    void: bool
    paid_at: datetime | None
    payment_method: PaymentMethodKind | None
    payment_reference: str | None
    refund_reference: str | None
    refunded_amount: Decimal = strawberry.field(
        description="What has been refunded: all of the total once REFUNDED; less while PAID means partially refunded (at the payment provider)."
    )
    amount_paid: Decimal = strawberry.field(
        description="What its payments brought in (before refunds): the total once PAID."
    )
    amount_due: Decimal = strawberry.field(
        description="What the customer still owes: the total less amountPaid while UNPAID; 0 once paid, refunded or void (below 0 for a credit note whose funds are still to be returned)."
    )
    is_credit_note: bool = strawberry.field(
        description="A total below zero (credits only): never paid; settled by returning the funds (payInvoice with method REFUND) or kept as the customer's balance."
    )
    line_count: int
    pdf_url: str
    row_id: strawberry.Private[int]
    customer_id: strawberry.Private[int]
    # The ORM's invoice, or a list page's row of it (no ORM object: queries/invoices.py).
    row: strawberry.Private[Invoice | InvoiceRow]

    @classmethod
    def from_row(cls, row: Invoice | InvoiceRow, context: Context) -> InvoiceType:
        settings = context.settings
        return cls(
            id=strawberry.ID(str(row.id)),
            number=row.number or "",
            title=row.title,
            start_date=row.start_date,
            end_date=row.end_date,
            period=period_text(row.start_date, row.end_date),
            due_date=row.due_date,
            created_at=row.created_at,
            subtotal=row.subtotal,
            tax=row.tax,
            total=row.total,
            currency=row.currency,
            status=row.status,
            void=row.void,
            paid_at=row.paid_at,
            payment_method=row.payment_method,
            payment_reference=row.payment_reference,
            refund_reference=row.refund_reference,
            refunded_amount=row.refunded_amount,
            amount_paid=row.amount_paid,
            amount_due=amount_due(row),
            is_credit_note=is_credit_note(row.total),
            line_count=row.line_count,
            pdf_url=pdf_url(settings, row.id),
            row_id=row.id,
            customer_id=row.customer_id,
            row=row,
        )

    @strawberry.field(
        description="The link to give the invoice's customer (the email's \"view or download\"): its page, with the invoice, a PDF download and the pay link, opened without a token. Signed, and valid links.lifetime_days from now; changing the link secret revokes every link."
    )
    async def share_url(self, info: Info) -> str:
        ctx = info.context
        return share_url(ctx.settings, await ctx.link_secret(), self.row_id, ctx.db.now())

    @strawberry.field(
        description="Where the customer pays the invoice, as its PDF, QR code, emails and page show it: this service's signed invoice page (the page behind shareUrl, which takes the payment), open until links.lifetime_days after the due date; or, with invoice.pay_url_template set, the CRM's own portal."
    )
    async def pay_url(self, info: Info) -> str:
        ctx = info.context
        row = self.row
        today = ctx.db.now().date()
        secret = await ctx.link_secret()
        return pay_url(ctx.settings, secret, row.id, row.number, row.due_date, today)

    @strawberry.field(
        description="A card payment or refund is being settled with the payment provider: nothing else may happen to the invoice meanwhile."
    )
    async def payment_pending(self, info: Info) -> bool:
        return bool(await info.context.loaders.open_attempts.load(self.row_id))

    @strawberry.field
    async def actions(self, info: Info) -> list[Action]:
        pending = bool(await info.context.loaders.open_attempts.load(self.row_id))
        return actions_for(self.row, info.context.viewer, pending=pending)

    @strawberry.field
    async def customer(self, info: Info) -> CustomerType:
        row = await info.context.loaders.customer.load(self.customer_id)
        assert row is not None  # a foreign key guarantees it
        return CustomerType.from_row(row)

    @strawberry.field(description="The cached PDF's freshness; null before the first render.")
    async def pdf(self, info: Info) -> InvoicePdf | None:
        status = await info.context.loaders.pdf_status.load(self.row_id)
        return InvoicePdf.from_status(status) if status else None

    @strawberry.field(
        description="The invoice as an e-invoice, in its customer's format (or `format`), checked against the EN 16931 rules. Null for a void invoice, and for a customer whose format is NONE unless `format` asks."
    )
    async def e_invoice(
        self, info: Info, format: EInvoiceFormat | None = None
    ) -> EInvoiceType | None:
        if format is EInvoiceFormat.NONE:
            return None
        status = await info.context.loaders.einvoice.load((self.row_id, format))
        return EInvoiceType.of(status) if status else None

    @strawberry.field(
        description="Unpaid, not void, not a credit note, and what is due next (the due date, or with a payment plan the first installment not paid) fell due before today (business.timezone)."
    )
    def overdue(self, info: Info) -> bool:
        return is_overdue(self.row, info.context.today)

    @strawberry.field(description="Days since what is due next fell due; 0 when not overdue.")
    def days_overdue(self, info: Info) -> int:
        return days_overdue(self.row, info.context.today)

    @strawberry.field(description="Every payment received, oldest first.")
    async def payments(self, info: Info) -> list[PaymentType]:
        rows = await info.context.loaders.payments.load(self.row_id)
        return [PaymentType.from_row(row) for row in rows]

    @strawberry.field(
        description="The payment plan (createPaymentPlan), in order; empty without one."
    )
    async def installments(self, info: Info) -> list[InstallmentType]:
        rows = await info.context.loaders.installments.load(self.row_id)
        return [InstallmentType.from_row(row) for row in rows]

    @strawberry.field(description="The invoice's history, oldest first.")
    async def events(self, info: Info) -> list[InvoiceEventType]:
        rows = await info.context.loaders.invoice_events.load(self.row_id)
        return [InvoiceEventType.from_row(row, info.context.viewer) for row in rows]

    @strawberry.field
    async def lines(self, info: Info) -> list[InvoiceLineType]:
        business = info.context.settings.business
        # The details modal is staff's: amounts in the business's language.
        formatter = Formatter.of(business, business.default_language, self.currency)
        rows = await info.context.loaders.invoice_lines.load(self.row_id)
        return [InvoiceLineType.from_row(line, formatter) for line in rows]


InvoicePage = Page[InvoiceType]
