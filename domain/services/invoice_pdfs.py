"""Invoice PDFs (GET /crm/invoice/{id}/pdf, clearInvoicePdfCache, `invoicing cache`):
rendered once per render key (rendering/renderer.py), kept in Invoice_PDF_Cache, served
from there; and the DRAFT PDF of a preview, kept a while in memory, never stored.

Renders are shared fairly: one render per key at a time (later askers wait for it), and
each viewer may have at most `invoice.renders_per_viewer` renders of their own in flight
(TOO_MANY_REQUESTS beyond), so one customer flooding drafts delays another's PDF by one
render at most."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from domain.config import Settings
from domain.errors import DomainError, ErrorCode, NotFound
from domain.model.access import Viewer, require_staff
from domain.model.einvoice import Syntax
from domain.model.entities import Customer, Installment, Invoice, InvoiceLine, InvoicePdfCache
from domain.model.enums import EInvoiceFormat
from domain.model.invoice_rules import is_open
from domain.ports import GlyphCoverage, Metrics, RenderFailed, TemplateFailure
from domain.rendering.documents import InvoiceDocument, Line, invoice_document, line_of
from domain.rendering.glyphs import unprintable
from domain.rendering.links import pay_url
from domain.rendering.renderer import DocumentRenderer, PreparedDocument
from domain.services.einvoice_checks import EInvoiceChecks, format_for
from domain.store import deployment, pdf_cache
from domain.store.batches import rows_by_parent
from domain.store.database import Database
from domain.store.pdf_cache import PruneReport

log = logging.getLogger("invoicing.pdf")

LINES_MEMO_SIZE = 1024
SECRET_SECONDS = 60
DRAFTS_KEPT = 32


@dataclass(frozen=True)
class InvoicePdf:
    invoice_id: int
    data: bytes
    filename: str
    sha256: str
    page_count: int
    rendered_at: datetime
    hit: bool

    @classmethod
    def of(cls, row: InvoicePdfCache, *, hit: bool) -> InvoicePdf:
        return cls(
            row.invoice_id, row.pdf, row.filename, row.sha256, row.page_count, row.created_at, hit
        )


@dataclass(frozen=True)
class PdfStatus:
    sha256: str
    rendered_at: datetime
    stale: bool
    size_bytes: int
    page_count: int


def render_failed(error: TemplateFailure | RenderFailed) -> DomainError:
    return DomainError(
        ErrorCode.PDF_RENDER_FAILED, f"The invoice PDF could not be rendered: {error}"
    )


class RenderSlots:
    """How many renders each viewer has in flight; the system's own are not counted."""

    def __init__(self, per_viewer: int) -> None:
        self.per_viewer = per_viewer
        self._in_flight: dict[str, int] = {}

    @staticmethod
    def _owner(viewer: Viewer) -> str | None:
        if viewer.customer_id is not None:
            return f"customer:{viewer.customer_id}"
        return f"token:{viewer.token_id}" if viewer.token_id is not None else None

    @contextmanager
    def taken(self, viewer: Viewer) -> Iterator[None]:
        owner = self._owner(viewer)
        if owner is None:
            yield
            return
        if self._in_flight.get(owner, 0) >= self.per_viewer:
            raise DomainError(
                ErrorCode.TOO_MANY_REQUESTS,
                f"{self.per_viewer} of your PDFs are rendering already; try again when they are done.",
            )
        self._in_flight[owner] = self._in_flight.get(owner, 0) + 1
        try:
            yield
        finally:
            self._in_flight[owner] -= 1
            if not self._in_flight[owner]:
                del self._in_flight[owner]


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
        self._rendering: dict[tuple[int, str], asyncio.Task[InvoicePdf]] = {}
        # Lines are frozen when an invoice is generated, so they are remembered, with the
        # invoice's creation time: an id can name another invoice after a backup is restored.
        self._lines: dict[int, tuple[datetime, tuple[Line, ...]]] = {}
        self.slots = RenderSlots(settings.invoice.renders_per_viewer)
        self._drafts: OrderedDict[str, bytes] = OrderedDict()
        self._drafting: dict[str, asyncio.Task[bytes]] = {}
        # The link secret the pay links printed on PDFs are signed with, read at most once a
        # minute (a page of PDF statuses would otherwise read it once per invoice); after
        # `invoicing links rotate` new renders carry new links within that minute.
        self._secret: tuple[float, str] | None = None

    async def _link_secret(self) -> str:
        now = time.monotonic()
        if self._secret is None or now - self._secret[0] > SECRET_SECONDS:
            self._secret = (now, await deployment.link_secret(self.db, self.settings))
        return self._secret[1]

    def _remember_lines(self, invoice: Invoice, rows: Sequence[InvoiceLine]) -> None:
        self._lines[invoice.id] = (invoice.created_at, tuple(line_of(row) for row in rows))
        while len(self._lines) > LINES_MEMO_SIZE:
            self._lines.pop(next(iter(self._lines)))

    def _remembered(self, invoice: Invoice) -> tuple[Line, ...] | None:
        memo = self._lines.get(invoice.id)
        return memo[1] if memo is not None and memo[0] == invoice.created_at else None

    async def _lines_of(self, invoice: Invoice) -> tuple[Line, ...]:
        lines = self._remembered(invoice)
        if lines is None:
            self._remember_lines(invoice, await pdf_cache.lines_of(self.db, invoice.id))
            lines = self._lines[invoice.id][1]
        return lines

    async def document(
        self, invoice: Invoice, customer: Customer, plan: Sequence[Installment] | None = None
    ) -> InvoiceDocument:
        """The invoice as its PDF and e-invoice show it (its lines remembered; its payment
        plan read unless given, and only while it is open: nothing else shows one)."""
        secret = await self._link_secret()
        today = self.db.now().date()
        link = pay_url(self.settings, secret, invoice.id, invoice.number, invoice.due_date, today)
        if plan is None:
            plan = (await self._plans([invoice]))[invoice.id]
        return invoice_document(invoice, customer, await self._lines_of(invoice), link, plan)

    async def _plans(self, invoices: Sequence[Invoice]) -> dict[int, list[Installment]]:
        """The payment plans of these invoices (empty for each that is not open), in one
        query, none when no invoice is open."""
        plans: dict[int, list[Installment]] = {invoice.id: [] for invoice in invoices}
        wanted = [invoice.id for invoice in invoices if is_open(invoice)]
        if wanted:
            plans.update(
                await rows_by_parent(
                    self.db, Installment, Installment.invoice_id, wanted, Installment.position
                )
            )
        return plans

    async def document_of(
        self, viewer: Viewer, invoice_id: int
    ) -> tuple[Invoice, Customer, InvoiceDocument]:
        """The invoice as its PDF and e-invoice show it, if the viewer may see it."""
        found = await pdf_cache.with_invoice(self.db, invoice_id, with_pdf=False)
        if found is None or not viewer.can_see_customer(found[0].customer_id):
            raise NotFound("Invoice", invoice_id, "id")
        invoice, customer, _ = found
        return invoice, customer, await self.document(invoice, customer)

    async def documents_of(
        self, viewer: Viewer, invoice_ids: Sequence[int]
    ) -> dict[int, tuple[Invoice, Customer, InvoiceDocument]]:
        """The same for a page of invoices: one query, plus one for the lines of the
        invoices this process has not seen yet."""
        found = await pdf_cache.invoices_with_lines(self.db, invoice_ids, set(self._lines))
        documents = {}
        for invoice, customer, lines in found:
            if not viewer.can_see_customer(invoice.customer_id):
                continue
            if lines is not None:
                self._remember_lines(invoice, lines)
            documents[invoice.id] = (invoice, customer, await self.document(invoice, customer))
        return documents

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
        document = await self.document(invoice, customer)
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
        found = await pdf_cache.statuses_with_invoices(self.db, invoice_ids, set(self._lines))
        visible = {
            invoice_id: entry
            for invoice_id, entry in found.items()
            if viewer.can_see_customer(entry.invoice.customer_id)
        }
        documents = {}
        plans = await self._plans([entry.invoice for entry in visible.values()])
        for invoice_id, entry in visible.items():
            if entry.lines is not None:
                self._remember_lines(entry.invoice, entry.lines)
            documents[invoice_id] = await self.document(
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
        """A DRAFT of what would be billed: rendered once per render key, kept a while in
        memory (the last DRAFTS_KEPT), never stored."""
        with self.slots.taken(viewer):
            try:
                prepared = await self.documents.prepare(replace(document, draft=True))
            except TemplateFailure as error:
                raise render_failed(error) from None
            kept = self._drafts.get(prepared.key)
            if kept is not None:
                self._drafts.move_to_end(prepared.key)
                return kept
            task = self._drafting.get(prepared.key)
            if task is None:
                task = asyncio.create_task(self._render_draft(prepared))
                self._drafting[prepared.key] = task
                task.add_done_callback(lambda _: self._drafting.pop(prepared.key, None))
            return await asyncio.shield(task)

    async def _render_draft(self, prepared: PreparedDocument) -> bytes:
        try:
            data = (await self.documents.render(prepared)).data
        except RenderFailed as error:
            raise render_failed(error) from None
        self._drafts[prepared.key] = data
        while len(self._drafts) > DRAFTS_KEPT:
            self._drafts.popitem(last=False)
        return data

    async def clear(self, viewer: Viewer, invoice_id: int | None = None) -> int:
        require_staff(viewer)
        return await pdf_cache.clear(self.db, invoice_id)

    async def prune(self, now: datetime | None = None) -> PruneReport:
        return await pdf_cache.prune(self.db, self.settings.invoice.pdf_cache, now or self.db.now())
