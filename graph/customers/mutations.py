"""createCustomer, updateCustomer, addContact, attachPaymentMethod."""

from __future__ import annotations

import strawberry

from domain.services import customers, payment_methods
from graph.context import Info
from graph.customers.types import ContactInput, CustomerInput, CustomerPayload
from graph.errors import payload
from graph.ids import require_id


@strawberry.type
class CustomerMutations:
    @strawberry.mutation
    async def create_customer(self, info: Info, input: CustomerInput) -> CustomerPayload:
        ctx = info.context
        return await payload(
            lambda: customers.create_customer(ctx.db, ctx.settings, ctx.viewer, input.to_domain()),
            CustomerPayload.of,
        )

    @strawberry.mutation
    async def update_customer(
        self, info: Info, id: strawberry.ID, input: CustomerInput
    ) -> CustomerPayload:
        ctx = info.context
        return await payload(
            lambda: customers.update_customer(
                ctx.db,
                ctx.settings,
                ctx.viewer,
                require_id(id, "Customer", "id"),
                input.to_domain(),
            ),
            CustomerPayload.of,
        )

    @strawberry.mutation
    async def add_contact(
        self, info: Info, customer_id: strawberry.ID, input: ContactInput
    ) -> CustomerPayload:
        ctx = info.context
        return await payload(
            lambda: customers.add_contact(
                ctx.db,
                ctx.viewer,
                require_id(customer_id, "Customer", "customer_id"),
                input.to_domain(),
            ),
            CustomerPayload.of,
        )

    @strawberry.mutation(
        description="Saves a card that already exists at Stripe (looked up there) as a payment method of the customer."
    )
    async def attach_payment_method(
        self,
        info: Info,
        customer_id: strawberry.ID,
        stripe_payment_method_id: str,
        make_default: bool = False,
    ) -> CustomerPayload:
        ctx = info.context
        return await payload(
            lambda: payment_methods.attach_payment_method(
                ctx.db,
                ctx.settings,
                ctx.viewer,
                require_id(customer_id, "Customer", "customer_id"),
                stripe_payment_method_id,
                make_default,
                ctx.runtime.cards,
            ),
            CustomerPayload.of,
        )
