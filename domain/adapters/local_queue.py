"""The WorkQueue port in the asking process (workers.backend: local, the embedded default):
billing jobs run one after another while the caller waits, PDFs render in background tasks
that `close()` waits for."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from domain.errors import ErrorCode
from domain.ports import BillingJob, BillOutcome, Jobs, TryLater

log = logging.getLogger("invoicing.work")


class LocalWorkQueue:
    def __init__(self, jobs: Jobs, *, prerender: bool = True) -> None:
        self.jobs = jobs
        self.prerender_enabled = prerender
        self._background: set[asyncio.Task[None]] = set()

    async def prerender(self, invoice_ids: Sequence[int]) -> None:
        if not self.prerender_enabled or not invoice_ids:
            return
        wanted = list(invoice_ids)

        async def run() -> None:
            for invoice_id in wanted:
                await self.jobs.render_invoice_pdf(invoice_id)

        task = asyncio.create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def bill(
        self, jobs: Sequence[BillingJob], on_progress: Callable[[int], None] | None = None
    ) -> list[BillOutcome]:
        outcomes = []
        for job in jobs:
            try:
                outcome = await self.jobs.bill_customer(job)
            except (TryLater, Exception):  # one customer's fault must not stop the run
                log.exception("billing customer %s failed", job.customer_id)
                outcome = BillOutcome(
                    job.customer_id,
                    "failed",
                    code=ErrorCode.CONFLICT.value,
                    message=f"Customer {job.customer_id} could not be billed; try again.",
                )
            outcomes.append(outcome)
            if on_progress is not None:
                on_progress(job.customer_id)
        await self.prerender([o.invoice_id for o in outcomes if o.invoice_id is not None])
        return outcomes

    async def depth(self) -> int:
        return len(self._background)

    async def close(self) -> None:
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
