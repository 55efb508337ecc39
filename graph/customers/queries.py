"""customer, customers."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.queries.customers import get_customer, list_customers
from graph.context import Info
from graph.customers.types import CustomerType
from graph.errors import found_or_null
from graph.ids import parse_id
from graph.paging import AFTER, Page, page_request


@strawberry.type
class CustomerQueries:
    @strawberry.field(description=found_or_null("customer"))
    async def customer(self, info: Info, id: strawberry.ID) -> CustomerType | None:
        customer_id = parse_id(id)
        if customer_id is None:
            return None
        row = await get_customer(info.context.db, info.context.viewer, customer_id)
        return CustomerType.from_row(row) if row else None

    @strawberry.field
    async def customers(
        self,
        info: Info,
        search: str | None = None,
        page: int = 1,
        per_page: int = 25,
        after: Annotated[str | None, AFTER] = None,
    ) -> Page[CustomerType]:
        ctx = info.context
        request = page_request(page, per_page, after)
        found = await list_customers(ctx.db, ctx.viewer, search, request)
        return Page.of(found, CustomerType.from_row)
