from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.models import Transaction, TransactionKind
from graph.context import Info
from graph.errors import UserError
from graph.types.customers import CustomerType
from graph.types.products import ProductType

if TYPE_CHECKING:
    from graph.types.invoices import InvoiceType

TransactionKindEnum = strawberry.enum(TransactionKind, name="TransactionKind")


@strawberry.type(name="Transaction")
class TransactionType:
    id: strawberry.ID
    kind: TransactionKindEnum  # type: ignore[valid-type]
    title: str
    description: str
    created_at: datetime
    retail_cost: Decimal
    tax_percentage: Decimal
    tax_amount: Decimal
    customer_id: strawberry.Private[int]
    product_id: strawberry.Private[int | None]
    invoice_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Transaction) -> TransactionType:
        return cls(
            id=strawberry.ID(str(row.id)),
            kind=row.kind,
            title=row.title,
            description=row.description,
            created_at=row.created_at,
            retail_cost=row.retail_cost,
            tax_percentage=row.tax_percentage,
            tax_amount=row.tax_amount,
            customer_id=row.customer_id,
            product_id=row.product_id,
            invoice_id=row.invoice_id,
        )

    @strawberry.field
    async def customer(self, info: Info) -> CustomerType:
        row = await info.context.loaders.customer.load(self.customer_id)
        assert row is not None  # a foreign key guarantees it
        return CustomerType.from_row(row)

    @strawberry.field(
        description="The invoice that bills this charge, or settles with this payment; null while unbilled."
    )
    async def invoice(
        self, info: Info
    ) -> Annotated[InvoiceType, strawberry.lazy("graph.types.invoices")] | None:
        from graph.types.invoices import InvoiceType

        if self.invoice_id is None:
            return None
        row = await info.context.loaders.invoice.load(self.invoice_id)
        return InvoiceType.from_row(row, info.context) if row else None

    @strawberry.field
    async def product(self, info: Info) -> ProductType | None:
        if self.product_id is None:
            return None
        row = await info.context.loaders.product.load(self.product_id)
        return ProductType.from_row(row) if row else None


@strawberry.type
class TransactionPage:
    items: list[TransactionType]
    total_count: int
    page: int
    per_page: int
    total_pages: int


@strawberry.input
class TransactionFilter:
    customer_id: strawberry.ID | None = None
    billed: bool | None = strawberry.field(
        default=None, description="true: only billed; false: only unbilled; null: both."
    )
    start_date: date | None = None
    end_date: date | None = None
    search: str | None = None


@strawberry.input
class TransactionInput:
    customer_id: strawberry.ID
    title: str
    description: str | None = None
    retail_cost: Decimal
    tax_percentage: Decimal | None = strawberry.field(
        default=None, description="Default: the product's tax percentage, or 0."
    )
    product_id: strawberry.ID | None = None
    created_at: datetime | None = strawberry.field(default=None, description="Default: now.")


@strawberry.input
class TransactionUpdateInput:
    title: str | None = None
    description: str | None = None
    retail_cost: Decimal | None = None
    tax_percentage: Decimal | None = None


@strawberry.type
class TransactionPayload:
    transaction: TransactionType | None
    errors: list[UserError]


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID | None
    errors: list[UserError]
