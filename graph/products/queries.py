"""product, products."""

from __future__ import annotations

import strawberry

from domain.queries.products import get_product, list_products
from graph.context import Info
from graph.errors import found_or_null
from graph.ids import parse_id
from graph.products.types import ProductType


@strawberry.type
class ProductQueries:
    @strawberry.field(description=found_or_null("product"))
    async def product(self, info: Info, id: strawberry.ID) -> ProductType | None:
        product_id = parse_id(id)
        row = await get_product(info.context.db, product_id) if product_id else None
        return ProductType.from_row(row) if row else None

    @strawberry.field
    async def products(self, info: Info) -> list[ProductType]:
        return [ProductType.from_row(row) for row in await list_products(info.context.db)]
