"""The Mutation root: input -> domain service -> payload. Each service call is one
database transaction; a refusal leaves the database as it was and fills `errors`."""

from __future__ import annotations

import strawberry

from domain import customers, products, transactions
from domain.customers import AddressData, ContactData, CustomerData
from graph.context import Info
from graph.errors import attempt
from graph.ids import require_id
from graph.types.customers import (
    ADDRESS_FIELDS,
    ContactInput,
    CustomerInput,
    CustomerPayload,
    CustomerType,
)
from graph.types.products import ProductInput, ProductPayload, ProductType
from graph.types.transactions import (
    DeletePayload,
    TransactionInput,
    TransactionPayload,
    TransactionType,
    TransactionUpdateInput,
)


def _customer_data(given: CustomerInput) -> CustomerData:
    address = None
    if given.address is not None:
        address = AddressData(**{name: getattr(given.address, name) for name in ADDRESS_FIELDS})
    return CustomerData(name=given.name, language=given.language, address=address)


def _customer_payload(row: object, errors: list) -> CustomerPayload:
    return CustomerPayload(customer=CustomerType.from_row(row) if row else None, errors=errors)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_customer(self, info: Info, input: CustomerInput) -> CustomerPayload:
        ctx = info.context
        row, errors = await attempt(
            customers.create_customer(ctx.db, ctx.settings, ctx.viewer, _customer_data(input))
        )
        return _customer_payload(row, errors)

    @strawberry.mutation
    async def update_customer(
        self, info: Info, id: strawberry.ID, input: CustomerInput
    ) -> CustomerPayload:
        ctx = info.context

        async def run():
            customer_id = require_id(id, "Customer", "id")
            return await customers.update_customer(
                ctx.db, ctx.settings, ctx.viewer, customer_id, _customer_data(input)
            )

        return _customer_payload(*await attempt(run()))

    @strawberry.mutation
    async def add_contact(
        self, info: Info, customer_id: strawberry.ID, input: ContactInput
    ) -> CustomerPayload:
        ctx = info.context

        async def run():
            data = ContactData(name=input.name, email=input.email, type=input.type)
            return await customers.add_contact(
                ctx.db, ctx.viewer, require_id(customer_id, "Customer", "customer_id"), data
            )

        return _customer_payload(*await attempt(run()))

    @strawberry.mutation
    async def create_product(self, info: Info, input: ProductInput) -> ProductPayload:
        ctx = info.context
        data = products.ProductData(name=input.name, tax_percentage=input.tax_percentage)
        row, errors = await attempt(products.create_product(ctx.db, ctx.viewer, data))
        return ProductPayload(product=ProductType.from_row(row) if row else None, errors=errors)

    @strawberry.mutation
    async def create_transaction(self, info: Info, input: TransactionInput) -> TransactionPayload:
        ctx = info.context

        async def run():
            data = transactions.TransactionData(
                customer_id=require_id(input.customer_id, "Customer", "customer_id"),
                title=input.title,
                description=input.description,
                retail_cost=input.retail_cost,
                tax_percentage=input.tax_percentage,
                created_at=input.created_at,
                product_id=(
                    require_id(input.product_id, "Product", "product_id")
                    if input.product_id
                    else None
                ),
            )
            return await transactions.create_transaction(ctx.db, ctx.viewer, data)

        row, errors = await attempt(run())
        return TransactionPayload(
            transaction=TransactionType.from_row(row) if row else None, errors=errors
        )

    @strawberry.mutation(
        description="Only while the transaction is unbilled; otherwise code TRANSACTION_BILLED."
    )
    async def update_transaction(
        self, info: Info, id: strawberry.ID, input: TransactionUpdateInput
    ) -> TransactionPayload:
        ctx = info.context

        async def run():
            changes = transactions.TransactionChanges(
                title=input.title,
                description=input.description,
                retail_cost=input.retail_cost,
                tax_percentage=input.tax_percentage,
            )
            return await transactions.update_transaction(
                ctx.db, ctx.viewer, require_id(id, "Transaction", "id"), changes
            )

        row, errors = await attempt(run())
        return TransactionPayload(
            transaction=TransactionType.from_row(row) if row else None, errors=errors
        )

    @strawberry.mutation
    async def delete_transaction(self, info: Info, id: strawberry.ID) -> DeletePayload:
        ctx = info.context

        async def run():
            return await transactions.delete_transaction(
                ctx.db, ctx.viewer, require_id(id, "Transaction", "id")
            )

        deleted, errors = await attempt(run())
        return DeletePayload(
            deleted_id=strawberry.ID(str(deleted)) if deleted else None, errors=errors
        )
