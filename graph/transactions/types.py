"""Transaction, its filter, inputs and payloads."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.model.commands import TransactionChanges, TransactionData
from domain.model.entities import Transaction
from domain.queries import transactions
from graph.context import Info
from graph.customers.types import CustomerType
from graph.enums import TransactionKind
from graph.errors import UserError
from graph.ids import parse_id, require_id
from graph.products.types import EXEMPTION, ProductType

if TYPE_CHECKING:
    from graph.invoices.types import InvoiceType


@strawberry.type(name="Transaction")
class TransactionType:
    id: strawberry.ID
    kind: TransactionKind
    title: str
    description: str
    created_at: datetime
    retail_cost: Decimal
    tax_percentage: Decimal
    tax_amount: Decimal
    tax_exemption_reason: str | None = strawberry.field(description=EXEMPTION)
    customer_id: strawberry.Private[int]
    product_id: strawberry.Private[int | None]
    invoice_id: strawberry.Private[int | None]
    credits_invoice_id: strawberry.Private[int | None]

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
            tax_exemption_reason=row.tax_exemption_reason,
            customer_id=row.customer_id,
            product_id=row.product_id,
            invoice_id=row.invoice_id,
            credits_invoice_id=row.credits_invoice_id,
        )

    @strawberry.field(description="ISO 4217: its customer's currency, which its amounts are in.")
    async def currency(self, info: Info) -> str:
        row = await info.context.loaders.customer.load(self.customer_id)
        assert row is not None  # a foreign key guarantees it
        return row.currency

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
    ) -> Annotated[InvoiceType, strawberry.lazy("graph.invoices.types")] | None:
        from graph.invoices.types import InvoiceType

        if self.invoice_id is None:
            return None
        row = await info.context.loaders.invoice.load(self.invoice_id)
        return InvoiceType.from_row(row, info.context) if row else None

    @strawberry.field(
        description="The earlier invoice this credit corrects; the credit note that bills it cites that invoice (an e-invoice's BG-3)."
    )
    async def credits_invoice(
        self, info: Info
    ) -> Annotated[InvoiceType, strawberry.lazy("graph.invoices.types")] | None:
        from graph.invoices.types import InvoiceType

        if self.credits_invoice_id is None:
            return None
        row = await info.context.loaders.invoice.load(self.credits_invoice_id)
        return InvoiceType.from_row(row, info.context) if row else None

    @strawberry.field
    async def product(self, info: Info) -> ProductType | None:
        if self.product_id is None:
            return None
        row = await info.context.loaders.product.load(self.product_id)
        return ProductType.from_row(row) if row else None


@strawberry.input
class TransactionFilter:
    customer_id: strawberry.ID | None = None
    billed: bool | None = strawberry.field(
        default=None, description="true: only billed; false: only unbilled; null: both."
    )
    start_date: date | None = None
    end_date: date | None = None
    search: str | None = None

    def to_domain(self) -> transactions.TransactionFilter:
        customer_id = None
        if self.customer_id is not None:
            # An ID that cannot be ours matches nothing rather than everything.
            customer_id = parse_id(self.customer_id) or -1
        return transactions.TransactionFilter(
            customer_id=customer_id,
            billed=self.billed,
            start_date=self.start_date,
            end_date=self.end_date,
            search=self.search,
        )


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
    tax_exemption_reason: str | None = strawberry.field(
        default=None,
        description="Why this untaxed charge is exempt (tax percentage 0 only). Default: the product's, when the tax percentage is the product's too.",
    )
    credits_invoice_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="For a credit (a negative amount): the earlier invoice of the customer's it corrects, which the credit note billing it cites.",
    )

    def to_domain(self) -> TransactionData:
        """Raises NOT_FOUND for an ID that cannot be ours."""
        return TransactionData(
            customer_id=require_id(self.customer_id, "Customer", "customer_id"),
            title=self.title,
            description=self.description,
            retail_cost=self.retail_cost,
            tax_percentage=self.tax_percentage,
            created_at=self.created_at,
            product_id=(
                require_id(self.product_id, "Product", "product_id") if self.product_id else None
            ),
            tax_exemption_reason=self.tax_exemption_reason,
            credits_invoice_id=(
                require_id(self.credits_invoice_id, "Invoice", "credits_invoice_id")
                if self.credits_invoice_id
                else None
            ),
        )


@strawberry.input
class TransactionUpdateInput:
    title: str | None = None
    description: str | None = None
    retail_cost: Decimal | None = None
    tax_percentage: Decimal | None = strawberry.field(
        default=None, description="Above 0, any exemption reason is dropped."
    )
    tax_exemption_reason: str | None = strawberry.field(
        default=None, description='Why this untaxed charge is exempt; "" clears it.'
    )

    def to_domain(self) -> TransactionChanges:
        return TransactionChanges(
            title=self.title,
            description=self.description,
            retail_cost=self.retail_cost,
            tax_percentage=self.tax_percentage,
            tax_exemption_reason=self.tax_exemption_reason,
        )


@strawberry.type
class TransactionPayload:
    transaction: TransactionType | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: Transaction | None, errors: list[UserError]) -> TransactionPayload:
        return cls(transaction=TransactionType.from_row(row) if row else None, errors=errors)


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID | None
    errors: list[UserError]

    @classmethod
    def of(cls, deleted: int | None, errors: list[UserError]) -> DeletePayload:
        return cls(deleted_id=strawberry.ID(str(deleted)) if deleted else None, errors=errors)
