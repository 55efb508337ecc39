"""In-memory fakes of the ports (domain/ports.py), for the fast unit tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from domain.ports import BillingJob, BillOutcome, EmbeddedInvoice, RenderedPdf, RenderFailed


class FakeJobs:
    """Bills customers by a script: {customer_id: outcome}, or an exception to raise."""

    def __init__(self, script: dict[int, BillOutcome | Exception]) -> None:
        self.script = script
        self.billed: list[int] = []
        self.rendered: list[int] = []
        self.render_gate = asyncio.Event()
        self.render_gate.set()

    async def bill_customer(self, job: BillingJob) -> BillOutcome:
        self.billed.append(job.customer_id)
        outcome = self.script[job.customer_id]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def render_invoice_pdf(self, invoice_id: int) -> None:
        await self.render_gate.wait()
        self.rendered.append(invoice_id)


class InlinePages:
    """A PdfRenderer that renders template pages in this process (the sandboxed Jinja
    environment is the real one; only the worker process and its limits are left out)
    and no PDFs: for tests of what pages say, without WeasyPrint."""

    timeout_seconds = 10.0
    engine = "inline-pages"

    async def render(
        self, html: str, base_dir: str | Path, embedded: EmbeddedInvoice | None = None
    ) -> RenderedPdf:
        raise RenderFailed("InlinePages renders no PDFs")

    async def render_html(self, page: Callable[[], str], template: str) -> str:
        return page()

    def close(self) -> None:
        pass
