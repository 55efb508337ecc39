from __future__ import annotations

from decimal import Decimal

import strawberry

from domain.models import Product
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


@strawberry.type
class ProductPayload:
    product: ProductType | None
    errors: list[UserError]
