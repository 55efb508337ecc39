"""createTransaction, updateTransaction, deleteTransaction."""

from __future__ import annotations

import strawberry

from domain.services import transactions
from graph.context import Info
from graph.errors import payload
from graph.ids import require_id
from graph.transactions.types import (
    DeletePayload,
    TransactionInput,
    TransactionPayload,
    TransactionUpdateInput,
)


@strawberry.type
class TransactionMutations:
    @strawberry.mutation
    async def create_transaction(self, info: Info, input: TransactionInput) -> TransactionPayload:
        ctx = info.context
        return await payload(
            lambda: transactions.create_transaction(ctx.db, ctx.viewer, input.to_domain()),
            TransactionPayload.of,
        )

    @strawberry.mutation(
        description="Only while the transaction is unbilled; otherwise code TRANSACTION_BILLED."
    )
    async def update_transaction(
        self, info: Info, id: strawberry.ID, input: TransactionUpdateInput
    ) -> TransactionPayload:
        ctx = info.context
        return await payload(
            lambda: transactions.update_transaction(
                ctx.db,
                ctx.viewer,
                require_id(id, "Transaction", "id"),
                input.to_domain(),
            ),
            TransactionPayload.of,
        )

    @strawberry.mutation
    async def delete_transaction(self, info: Info, id: strawberry.ID) -> DeletePayload:
        ctx = info.context
        return await payload(
            lambda: transactions.delete_transaction(
                ctx.db, ctx.viewer, require_id(id, "Transaction", "id")
            ),
            DeletePayload.of,
        )
