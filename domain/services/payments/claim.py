"""What the claim step of a provider call answers (charge.py, refund.py): the invoice, and
the attempt claimed for the call (store/attempts.py `claim`); no attempt on a replay of the
same request, which answers the invoice as it stands. `id` is what store/idempotency.py
remembers of the first answer."""

from __future__ import annotations

from dataclasses import dataclass

from domain.model.entities import Invoice


@dataclass
class Claimed:
    invoice: Invoice
    attempt_id: int | None = None

    @property
    def id(self) -> int:
        return self.invoice.id
