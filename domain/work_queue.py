"""Work done away from the request that asked for it: rendering PDFs ahead of their first
download, and billing runs.

Two backends behind one small interface, chosen by `workers.backend`:
- local (the embedded default): the asking process does the work itself, PDFs in its
  background and renderer processes;
- redis: jobs go on a Redis queue and `invoicing worker` processes, on any machine, do
  them (domain/redis_work.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from domain import billing
from domain.access import Viewer
from domain.billing import BillingRun
from domain.config import Settings
from domain.db import Database
from domain.pdf_cache import InvoicePdfs


@dataclass(frozen=True)
class BillingOrder:
    """A billing run's period and due date, and who asked for it."""

    start: date
    end: date
    due: date
    operator: Viewer


class WorkQueue(Protocol):
    async def prerender(self, invoice_ids: Sequence[int]) -> None:
        """Have these invoices' PDFs rendered soon, so that first downloads are cache hits."""

    async def run_billing(
        self,
        order: BillingOrder,
        customer_ids: Sequence[int] | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> BillingRun:
        """Bill each customer once (the given ones, else all with unbilled charges in the
        period) and render the new invoices' PDFs; wait for all of it."""

    async def depth(self) -> int:
        """Jobs waiting to start."""

    async def close(self) -> None: ...


class LocalWorkQueue:
    def __init__(self, db: Database, settings: Settings, pdfs: InvoicePdfs) -> None:
        self.db = db
        self.settings = settings
        self.pdfs = pdfs

    async def prerender(self, invoice_ids: Sequence[int]) -> None:
        self.pdfs.prerender(list(invoice_ids))

    async def run_billing(
        self,
        order: BillingOrder,
        customer_ids: Sequence[int] | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> BillingRun:
        run = await billing.run_billing(
            self.db,
            self.settings,
            order.operator,
            order.start,
            order.end,
            order.due,
            customer_ids,
            on_progress=on_progress,
        )
        self.pdfs.prerender([invoice.id for invoice in run.invoices])
        return run

    async def depth(self) -> int:
        return self.pdfs.background_jobs

    async def close(self) -> None:
        await self.pdfs.wait_for_background()
