from __future__ import annotations

import strawberry

from domain.models import Role
from graph.context import Info
from graph.types.customers import CustomerType

RoleEnum = strawberry.enum(Role, name="Role")


@strawberry.type
class Viewer:
    role: RoleEnum  # type: ignore[valid-type]
    name: str
    customer_id: strawberry.Private[int | None]

    @strawberry.field(description="The viewer's own customer, for the CUSTOMER role.")
    async def customer(self, info: Info) -> CustomerType | None:
        if self.customer_id is None:
            return None
        row = await info.context.loaders.customer.load(self.customer_id)
        return CustomerType.from_row(row) if row else None
