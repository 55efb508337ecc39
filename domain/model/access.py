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
# Whoever holds a signed invoice link: the link was checked to name the one invoice it
# opens, which is all this viewer is ever used for.
INVOICE_LINK = Viewer(role=Role.STAFF, name="invoice link")

# Who did something, as an invoice's history keeps it: the viewer who asked (its token's
# name, and its customer for a customer token), or a service ("stripe", "reconciler").
Actor = Viewer | str


def actor_name(actor: Actor) -> str:
    return actor.name if isinstance(actor, Viewer) else actor


def actor_customer(actor: Actor) -> int | None:
    """The customer whose own token acted, if one did."""
    return actor.customer_scope if isinstance(actor, Viewer) else None


def require_staff(viewer: Viewer) -> None:
    if not viewer.is_staff:
        raise Forbidden()


def actor_as_seen_by(viewer: Viewer, actor: str, actor_customer_id: int | None) -> str:
    """Who did something, as `viewer` may read it: staff see the token's name; a customer
    sees "you" for its own token's actions and "staff" for everyone else's (a token's name
    would tell a customer who works on its account, and how)."""
    if viewer.is_staff:
        return actor
    return "you" if actor_customer_id == viewer.customer_id else "staff"
