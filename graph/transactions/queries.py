"""transaction, transactions."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.queries.transactions import get_transaction, list_transactions
from graph.context import Info
from graph.errors import found_or_null
from graph.ids import parse_id
from graph.paging import AFTER, Page, page_request
from graph.transactions.types import TransactionFilter, TransactionType


@strawberry.type
class TransactionQueries:
    @strawberry.field(description=found_or_null("transaction"))
    async def transaction(self, info: Info, id: strawberry.ID) -> TransactionType | None:
        transaction_id = parse_id(id)
        if transaction_id is None:
            return None
        row = await get_transaction(info.context.db, info.context.viewer, transaction_id)
        return TransactionType.from_row(row) if row else None

    @strawberry.field
    async def transactions(
        self,
        info: Info,
        filter: TransactionFilter | None = None,
        page: int = 1,
        per_page: int = 25,
        after: Annotated[str | None, AFTER] = None,
    ) -> Page[TransactionType]:
        ctx = info.context
        criteria = (filter or TransactionFilter()).to_domain()
        found = await list_transactions(
            ctx.db,
            ctx.viewer,
            ctx.settings.business.zone,
            criteria,
            page_request(page, per_page, after),
        )
        return Page.of(found, TransactionType.from_row)
