"""Who is asking, and what that lets them see.

A STAFF viewer sees everything. A CUSTOMER viewer (the self-care portal) sees only its own
customer's data: anything else behaves exactly as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import Forbidden
from domain.model.enums import Role


@dataclass(frozen=True)
class Viewer:
    role: Role
    name: str
    customer_id: int | None = None
    token_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.role is Role.STAFF

    def can_see_customer(self, customer_id: int) -> bool:
        return self.is_staff or self.customer_id == customer_id

    @property
    def customer_scope(self) -> int | None:
        """The only customer this viewer may see, or None for all of them."""
        return None if self.is_staff else self.customer_id

    @property
    def key_scope(self) -> str:
        """Whose idempotency keys these are: staff share one space, each customer has its own."""
        return "staff" if self.is_staff else f"customer:{self.customer_id}"


SYSTEM = Viewer(role=Role.STAFF, name="system")


def require_staff(viewer: Viewer) -> None:
    if not viewer.is_staff:
        raise Forbidden()
