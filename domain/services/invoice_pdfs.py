"""Invoice PDFs (GET /crm/invoice/{id}/pdf, clearInvoicePdfCache, `invoicing cache`):
rendered once per render key (rendering/renderer.py), kept in Invoice_PDF_Cache
(store/pdf_cache.py), served from there. The parts it is made of:

- services/invoice_documents.py: the stored invoice as its PDF shows it (a read, kept
  beside the services that use it: the layers let services not import queries);
- services/render_slots.py: renders shared fairly between viewers;
- services/pdf_drafts.py: the DRAFT PDF of a preview, kept a while in memory.

One render per key at a time: later askers wait for it, in this process (the task in
flight) and across processes (a named database lock)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Sequence
from datetime import datetime

from domain.config import Settings
from domain.errors import DomainError, NotFound
from domain.model.access import Viewer, require_staff
from domain.model.einvoice import Syntax
from domain.model.entities import Customer, Invoice, InvoicePdfCache
from domain.model.enums import EInvoiceFormat
from domain.model.pdfs import InvoicePdf, PdfStatus, render_failed
from domain.ports import GlyphCoverage, Metrics, RenderFailed, TemplateFailure
from domain.rendering.documents import InvoiceDocument
from domain.rendering.glyphs import unprintable
from domain.rendering.renderer import DocumentRenderer, PreparedDocument
from domain.services.einvoice_checks import EInvoiceChecks, format_for
from domain.services.invoice_documents import InvoiceDocuments
from domain.services.pdf_drafts import DraftPdfs
from domain.services.render_slots import RenderSlots
from domain.store import pdf_cache
from domain.store.database import Database
from domain.store.pdf_cache import PruneReport

log = logging.getLogger("invoicing.pdf")


class InvoicePdfs:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        documents: DocumentRenderer,
        metrics: Metrics,
        glyphs: GlyphCoverage | None = None,
        checks: EInvoiceChecks | None = None,
    ) -> None:
        self.db = db
        self.glyphs = glyphs
        # Makes the PDFs of customers who want Factur-X carry their CII XML.
        self.checks = checks
        self.settings = settings
        self.documents = documents
        self.metrics = metrics
        self.invoices = InvoiceDocuments(db, settings)
        self.slots = RenderSlots(settings.invoice.renders_per_viewer)
        self.drafts = DraftPdfs(documents, self.slots)
        self._rendering: dict[tuple[int, str], asyncio.Task[InvoicePdf]] = {}

    async def document_of(
        self, viewer: Viewer, invoice_id: int
    ) -> tuple[Invoice, Customer, InvoiceDocument]:
        return await self.invoices.document_of(viewer, invoice_id)

    async def documents_of(
        self, viewer: Viewer, invoice_ids: Sequence[int]
    ) -> dict[int, tuple[Invoice, Customer, InvoiceDocument]]:
        return await self.invoices.documents_of(viewer, invoice_ids)

    async def _factur_x(
        self, invoice: Invoice, customer: Customer, document: InvoiceDocument
    ) -> bytes | None:
        """The CII XML the PDF is to carry, when its customer wants Factur-X."""
        if self.checks is None or format_for(customer, self.settings) is not EInvoiceFormat.FACTURX:
            return None
        try:
            return await self.checks.passing_xml(
                document, Syntax.CII, invoice.id, "rendered as a plain PDF"
            )
        except DomainError as error:  # the rules could not run: a plain PDF, said so
            log.error("invoice %s: rendered as a plain PDF: %s", invoice.id, error.message)
            return None

    async def _prepare(
        self, invoice: Invoice, customer: Customer, document: InvoiceDocument
    ) -> PreparedDocument:
        """Raises TemplateFailure."""
        factur_x = await self._factur_x(invoice, customer, document)
        return await self.documents.prepare(document, factur_x=factur_x)

    async def _load(
        self, viewer: Viewer, invoice_id: int
    ) -> tuple[Invoice, PreparedDocument, InvoicePdfCache | None]:
        """The invoice, its document prepared for rendering, and its cached PDF if any: one
        query, plus one for the lines the first time this process sees the invoice."""
        found = await pdf_cache.with_invoice(self.db, invoice_id)
        if found is None or not viewer.can_see_customer(found[0].customer_id):
            raise NotFound("Invoice", invoice_id, "id")
        invoice, customer, cached = found
        document = await self.invoices.document(invoice, customer)
        try:
            prepared = await self._prepare(invoice, customer, document)
        except TemplateFailure as error:
            log.error("invoice %s: template failed: %s", invoice_id, error)
            raise render_failed(error) from None
        return invoice, prepared, cached

    async def page(self, viewer: Viewer, invoice_id: int) -> tuple[Invoice, PreparedDocument]:
        """The invoice and the HTML its PDF is rendered from (the customer's invoice page)."""
        invoice, prepared, _ = await self._load(viewer, invoice_id)
        return invoice, prepared

    async def get(self, viewer: Viewer, invoice_id: int) -> InvoicePdf:
        """The invoice's PDF, from the cache when its key still matches, else rendered now."""
        _, prepared, cached = await self._load(viewer, invoice_id)
        if cached is not None and cached.render_key == prepared.key:
            self.metrics.pdf_cache(hit=True)
            await pdf_cache.touch(self.db, cached)
            return InvoicePdf.of(cached, hit=True)
        self.metrics.pdf_cache(hit=False)
        # Requests arriving while this very PDF renders wait for that render.
        flight = (invoice_id, prepared.key)
        task = self._rendering.get(flight)
        if task is not None:
            return await asyncio.shield(task)
        with self.slots.taken(viewer):
            task = asyncio.create_task(self._render_and_store(invoice_id, prepared))
            self._rendering[flight] = task
            task.add_done_callback(lambda _: self._rendering.pop(flight, None))
            return await asyncio.shield(task)

    async def _render_and_store(self, invoice_id: int, prepared: PreparedDocument) -> InvoicePdf:
        # Other server processes may be rendering this very PDF: one renders, the others wait
        # and then find it in the cache.
        lock = f"invoice-pdf-{invoice_id}"
        async with self.db.named_lock(lock, self.documents.renderer.timeout_seconds) as alone:
            if alone:
                stored = await pdf_cache.stored(self.db, invoice_id)
                if stored is not None and stored.render_key == prepared.key:
                    return InvoicePdf.of(stored, hit=True)
            return await self._render_then_store(invoice_id, prepared)

    async def _warn_of_missing_glyphs(self, invoice_id: int, prepared: PreparedDocument) -> None:
        """Text no installed font draws prints as empty boxes: say so, naming the fields."""
        if self.glyphs is None:
            return
        findings = await asyncio.to_thread(unprintable, self.glyphs, prepared.texts)
        if findings:
            log.warning("invoice %s prints empty boxes: %s", invoice_id, "; ".join(findings))

    async def _render_then_store(self, invoice_id: int, prepared: PreparedDocument) -> InvoicePdf:
        await self._warn_of_missing_glyphs(invoice_id, prepared)
        started = time.perf_counter()
        try:
            rendered = await self.documents.render(prepared)
        except RenderFailed as error:
            log.error("invoice %s: rendering %s failed: %s", invoice_id, prepared.template, error)
            raise render_failed(error) from None
        seconds = time.perf_counter() - started
        self.metrics.pdf_rendered(seconds, len(rendered.data))
        now = self.db.now()
        row = InvoicePdfCache(
            invoice_id=invoice_id,
            pdf=rendered.data,
            filename=prepared.filename,
            sha256=hashlib.sha256(rendered.data).hexdigest(),
            render_key=prepared.key,
            size_bytes=len(rendered.data),
            page_count=rendered.page_count,
            created_at=now,
            last_accessed=now,
        )
        if await pdf_cache.store(self.db, row):
            # Logged once stored: a render lost to a crash before this line never counted.
            log.info(
                "invoice %s: rendered %d pages, %d bytes in %.0f ms",
                invoice_id,
                rendered.page_count,
                len(rendered.data),
                seconds * 1000,
            )
        else:
            log.info("invoice %s: PDF stored concurrently by another process", invoice_id)
        return InvoicePdf.of(row, hit=False)

    async def statuses(self, viewer: Viewer, invoice_ids: Sequence[int]) -> dict[int, PdfStatus]:
        """Each cached PDF's metadata and whether it is stale, for a page of invoices: one
        query (the lines only of invoices this process has not seen yet)."""
        found = await pdf_cache.statuses_with_invoices(self.db, invoice_ids, self.invoices.known)
        visible = {
            invoice_id: entry
            for invoice_id, entry in found.items()
            if viewer.can_see_customer(entry.invoice.customer_id)
        }
        documents = {}
        plans = await self.invoices.plans([entry.invoice for entry in visible.values()])
        for invoice_id, entry in visible.items():
            if entry.lines is not None:
                self.invoices.remember_lines(entry.invoice, entry.lines)
            documents[invoice_id] = await self.invoices.document(
                entry.invoice, entry.customer, plans[invoice_id]
            )

        async def current_key(invoice_id: int) -> str | None:
            entry = visible[invoice_id]
            try:
                prepared = await self._prepare(entry.invoice, entry.customer, documents[invoice_id])
            except TemplateFailure:
                return None  # a broken template: nothing cached matches it
            return prepared.key

        found_keys = await asyncio.gather(*(current_key(i) for i in documents))
        keys = dict(zip(documents, found_keys, strict=True))
        return {
            invoice_id: PdfStatus(
                entry.cached.sha256,
                entry.cached.created_at,
                keys.get(invoice_id) != entry.cached.render_key,
                entry.cached.size_bytes,
                entry.cached.page_count,
            )
            for invoice_id, entry in visible.items()
        }

    async def draft(self, viewer: Viewer, document: InvoiceDocument) -> bytes:
        """A DRAFT of what would be billed (services/pdf_drafts.py)."""
        return await self.drafts.draft(viewer, document)

    async def clear(self, viewer: Viewer, invoice_id: int | None = None) -> int:
        require_staff(viewer)
        return await pdf_cache.clear(self.db, invoice_id)

    async def prune(self, now: datetime | None = None) -> PruneReport:
        return await pdf_cache.prune(self.db, self.settings.invoice.pdf_cache, now or self.db.now())
