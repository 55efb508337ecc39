"""createProduct."""

from __future__ import annotations

import strawberry

from domain.services import products
from graph.context import Info
from graph.errors import payload
from graph.products.types import ProductInput, ProductPayload


@strawberry.type
class ProductMutations:
    @strawberry.mutation
    async def create_product(self, info: Info, input: ProductInput) -> ProductPayload:
        ctx = info.context
        return await payload(
            lambda: products.create_product(ctx.db, ctx.viewer, input.to_domain()),
            ProductPayload.of,
        )
