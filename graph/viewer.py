"""viewer: who the bearer token stands for."""

from __future__ import annotations

import strawberry

from graph.context import Info
from graph.customers.types import CustomerType
from graph.enums import Role


@strawberry.type
class Viewer:
    role: Role
    name: str
    customer_id: strawberry.Private[int | None]

    @strawberry.field(description="The viewer's own customer, for the CUSTOMER role.")
    async def customer(self, info: Info) -> CustomerType | None:
        if self.customer_id is None:
            return None
        row = await info.context.loaders.customer.load(self.customer_id)
        return CustomerType.from_row(row) if row else None


@strawberry.type
class ViewerQueries:
    @strawberry.field
    def viewer(self, info: Info) -> Viewer:
        viewer = info.context.viewer
        return Viewer(role=viewer.role, name=viewer.name, customer_id=viewer.customer_id)
