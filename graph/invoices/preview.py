"""invoicePreview: what generateInvoice would bill."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from domain.config import Settings
from domain.queries.billing_preview import Preview
from domain.rendering.links import draft_pdf_url
from graph.transactions.types import TransactionType


@strawberry.type
class PreviewLine:
    transaction: TransactionType
    included: bool


@strawberry.type
class InvoicePreview:
    start_date: date
    end_date: date
    lines: list[PreviewLine]
    included_count: int
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    currency: str = strawberry.field(
        description="ISO 4217: the customer's currency, which the invoice would be in."
    )
    pdf_url: str = strawberry.field(
        description="A DRAFT PDF of exactly what would be billed, in the customer's template and language."
    )

    @classmethod
    def from_domain(cls, preview: Preview, settings: Settings) -> InvoicePreview:
        return cls(
            pdf_url=draft_pdf_url(
                settings, preview.customer.id, preview.period, preview.excluded_ids
            ),
            start_date=preview.period.start,
            end_date=preview.period.end,
            lines=[
                PreviewLine(
                    transaction=TransactionType.from_row(line.transaction), included=line.included
                )
                for line in preview.lines
            ],
            included_count=len(preview.included),
            subtotal=preview.subtotal,
            tax=preview.tax,
            total=preview.total,
            currency=preview.customer.currency,
        )
