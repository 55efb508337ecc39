"""Product, its input and payload."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from domain.model.commands import ProductData
from domain.model.entities import Product
from graph.errors import UserError

EXEMPTION = (
    "Why untaxed charges are exempt (an e-invoice's tax category E, with this reason); "
    "only with a tax percentage of 0. Null: untaxed charges are zero rated (category Z)."
)


@strawberry.type(name="Product")
class ProductType:
    id: strawberry.ID
    name: str
    tax_percentage: Decimal
    tax_exemption_reason: str | None = strawberry.field(description=EXEMPTION, default=None)

    @classmethod
    def from_row(cls, row: Product) -> ProductType:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            tax_percentage=row.tax_percentage,
            tax_exemption_reason=row.tax_exemption_reason,
        )


@strawberry.input
class ProductInput:
    name: str
    tax_percentage: Decimal
    tax_exemption_reason: str | None = strawberry.field(default=None, description=EXEMPTION)

    def to_domain(self) -> ProductData:
        return ProductData(
            name=self.name,
            tax_percentage=self.tax_percentage,
            tax_exemption_reason=self.tax_exemption_reason,
        )


@strawberry.type
class ProductPayload:
    product: ProductType | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: Product | None, errors: list[UserError]) -> ProductPayload:
        return cls(product=ProductType.from_row(row) if row else None, errors=errors)
