"""Product, its input and payload."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from domain.model.commands import ProductData
from domain.model.entities import Product
from graph.errors import UserError


@strawberry.type(name="Product")
class ProductType:
    id: strawberry.ID
    name: str
    tax_percentage: Decimal

    @classmethod
    def from_row(cls, row: Product) -> ProductType:
        return cls(id=strawberry.ID(str(row.id)), name=row.name, tax_percentage=row.tax_percentage)


@strawberry.input
class ProductInput:
    name: str
    tax_percentage: Decimal

    def to_domain(self) -> ProductData:
        return ProductData(name=self.name, tax_percentage=self.tax_percentage)


@strawberry.type
class ProductPayload:
    product: ProductType | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: Product | None, errors: list[UserError]) -> ProductPayload:
        return cls(product=ProductType.from_row(row) if row else None, errors=errors)
