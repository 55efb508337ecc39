from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

import strawberry

from domain.billing import Preview
from graph.types.transactions import TransactionType


@strawberry.input
class InvoicePreviewInput:
    customer_id: strawberry.ID
    start_date: date | None = strawberry.field(
        default=None, description="Default: 14 days before today."
    )
    end_date: date | None = strawberry.field(default=None, description="Default: today.")
    excluded_transaction_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


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
    pdf_url: str = strawberry.field(
        description="A DRAFT PDF of exactly what would be billed, in the customer's template and language."
    )

    @classmethod
    def from_domain(cls, preview: Preview, customer_id: int, public_url: str) -> InvoicePreview:
        query = urlencode(
            {
                "customerId": customer_id,
                "startDate": preview.period.start.isoformat(),
                "endDate": preview.period.end.isoformat(),
                "excludedTransactionIds": ",".join(
                    str(line.transaction.id) for line in preview.lines if not line.included
                ),
            }
        )
        return cls(
            pdf_url=f"{public_url}/crm/invoice-preview/pdf?{query}",
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
        )
