"""Invoice PDFs: rendered once per render key, kept in Invoice_PDF_Cache, served from there.

The render key hashes the page's HTML (so the invoice's data, its lines, the customer, the
template and its includes) and the content of every local asset the page uses, plus the
render settings. Voiding, paying, editing a template or its CSS all change the key, so a
stale PDF is never served and nobody has to remember to clear anything.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from importlib.metadata import version

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from domain.access import SYSTEM, Viewer, require_staff
from domain.config import Settings
from domain.db import Database, utcnow
from domain.documents import InvoiceDocument, Line, invoice_document, invoice_lines
from domain.errors import DomainError, ErrorCode, NotFound
from domain.metrics import PDF_CACHE, PDF_RENDER_SECONDS, PDF_SIZE_BYTES
from domain.models import Customer, Invoice, InvoicePdfCache
from domain.pdf_renderer import PdfRenderer, RenderFailed
from domain.template_variables import template_variables
from domain.templating import Assets, TemplateFailure, TemplateSet, render_key

log = logging.getLogger("invoicing.pdf")

RENDER_SETTINGS = {"engine": f"weasyprint {version('weasyprint')}", "layout": 1}
# Writing last_accessed on every download would turn reads into writes; a minute is fine
# for pruning that counts in days.
ACCESS_RESOLUTION = timedelta(minutes=1)
HTML_MEMO_SIZE = 256
LINES_MEMO_SIZE = 1024


def pdf_filename(invoice_id: int) -> str:
    return f"Invoice_{invoice_id:05d}.pdf"


@dataclass(frozen=True)
class PreparedDocument:
    html: str
    template: str
    assets: Assets
    key: str


@dataclass(frozen=True)
class InvoicePdf:
    invoice_id: int
    data: bytes
    filename: str
    sha256: str
    page_count: int
    rendered_at: datetime
    hit: bool


@dataclass(frozen=True)
class PdfStatus:
    sha256: str
    rendered_at: datetime
    stale: bool
    size_bytes: int
    page_count: int


@dataclass(frozen=True)
class PruneReport:
    too_old: int
    idle: int
    over_size: int
    bytes_freed: int


def render_failed(error: TemplateFailure | RenderFailed) -> DomainError:
    return DomainError(
        ErrorCode.PDF_RENDER_FAILED, f"The invoice PDF could not be rendered: {error}"
    )


class DocumentRenderer:
    """Template -> HTML -> PDF for any document: invoices, drafts and designers' fixtures."""

    def __init__(
        self, settings: Settings, renderer: PdfRenderer, templates: TemplateSet | None = None
    ) -> None:
        self.settings = settings
        self.renderer = renderer
        self.templates = templates or TemplateSet(settings.invoice.template_dir)
        self._html: dict[tuple[object, ...], str] = {}

    def prepare(self, document: InvoiceDocument, template: str | None = None) -> PreparedDocument:
        name = self.templates.pick(
            template or self.settings.invoice.template_filename, document.client.language
        )
        # The HTML is a pure function of the document and the template sources, so it is
        # remembered; asset contents are still checked on every call (by their stat).
        memo_key = (document, name, self.templates.sources_signature())
        html = self._html.get(memo_key)
        if html is None:
            html = self.templates.render(name, template_variables(document, self.settings))
            self._html[memo_key] = html
            while len(self._html) > HTML_MEMO_SIZE:
                self._html.pop(next(iter(self._html)))
        assets = self.templates.assets(html)
        return PreparedDocument(html, name, assets, render_key(html, assets, RENDER_SETTINGS))

    async def prepare_off_loop(self, document: InvoiceDocument) -> PreparedDocument:
        """prepare() in a thread: rendering a long invoice's HTML takes tens of milliseconds
        that the event loop should spend answering other requests. Cached documents return
        at once."""
        return await asyncio.to_thread(self.prepare, document)

    async def render(self, prepared: PreparedDocument):
        return await self.renderer.render(prepared.html, self.templates.directory)


class InvoicePdfs:
    def __init__(self, db: Database, settings: Settings, documents: DocumentRenderer) -> None:
        self.db = db
        self.settings = settings
        self.documents = documents
        self._rendering: dict[tuple[int, str], asyncio.Task[InvoicePdf]] = {}
        self._lines: dict[int, tuple[Line, ...]] = {}
        self._background: set[asyncio.Task[object]] = set()

    async def _load(
        self, viewer: Viewer, invoice_id: int
    ) -> tuple[PreparedDocument, InvoicePdfCache | None]:
        """The invoice's document prepared for rendering, and its cached PDF if any: one query,
        plus one for the lines the first time this process sees the invoice."""
        async with self.db.read() as session:
            found = (
                await session.execute(
                    select(Invoice, Customer, InvoicePdfCache)
                    .join(Customer, Customer.id == Invoice.customer_id)
                    .outerjoin(InvoicePdfCache, InvoicePdfCache.invoice_id == Invoice.id)
                    .where(Invoice.id == invoice_id)
                )
            ).one_or_none()
            if found is None or not viewer.can_see_customer(found[0].customer_id):
                raise NotFound("Invoice", invoice_id, "id")
            invoice, customer, cached = found
            lines = self._lines.get(invoice_id)
            if lines is None:
                # Lines are frozen when an invoice is generated, so they are remembered.
                lines = self._lines[invoice_id] = await invoice_lines(session, invoice_id)
                while len(self._lines) > LINES_MEMO_SIZE:
                    self._lines.pop(next(iter(self._lines)))
        try:
            prepared = await self.documents.prepare_off_loop(
                invoice_document(invoice, customer, lines, self.settings)
            )
        except TemplateFailure as error:
            log.error("invoice %s: template failed: %s", invoice_id, error)
            raise render_failed(error) from None
        return prepared, cached

    async def _prepare(self, viewer: Viewer, invoice_id: int) -> PreparedDocument:
        return (await self._load(viewer, invoice_id))[0]

    async def get(self, viewer: Viewer, invoice_id: int) -> InvoicePdf:
        """The invoice's PDF, from the cache when its key still matches, else rendered now."""
        prepared, cached = await self._load(viewer, invoice_id)
        if cached is not None and cached.render_key == prepared.key:
            PDF_CACHE.labels(result="hit").inc()
            await self._touch(cached)
            return InvoicePdf(
                invoice_id,
                cached.pdf,
                cached.filename,
                cached.sha256,
                cached.page_count,
                cached.created_at,
                hit=True,
            )
        PDF_CACHE.labels(result="miss").inc()
        # Requests arriving while this very PDF renders wait for that render.
        flight = (invoice_id, prepared.key)
        task = self._rendering.get(flight)
        if task is None:
            task = asyncio.create_task(self._render_and_store(invoice_id, prepared))
            self._rendering[flight] = task
            task.add_done_callback(lambda _: self._rendering.pop(flight, None))
        return await asyncio.shield(task)

    async def _touch(self, cached: InvoicePdfCache) -> None:
        now = utcnow()
        if now - cached.last_accessed > ACCESS_RESOLUTION:
            async with self.db.transaction() as session:
                await session.execute(
                    update(InvoicePdfCache)
                    .where(InvoicePdfCache.id == cached.id)
                    .values(last_accessed=now)
                )

    async def _render_and_store(self, invoice_id: int, prepared: PreparedDocument) -> InvoicePdf:
        # Other server processes may be rendering this very PDF: one renders, the others wait
        # and then find it in the cache.
        async with self.db.named_lock(
            f"invoice-pdf-{invoice_id}", self.documents.renderer.timeout_seconds
        ) as alone:
            if alone:
                async with self.db.read() as session:
                    stored = (
                        await session.execute(
                            select(InvoicePdfCache).where(InvoicePdfCache.invoice_id == invoice_id)
                        )
                    ).scalar_one_or_none()
                if stored is not None and stored.render_key == prepared.key:
                    return InvoicePdf(
                        invoice_id,
                        stored.pdf,
                        stored.filename,
                        stored.sha256,
                        stored.page_count,
                        stored.created_at,
                        hit=True,
                    )
            return await self._render_then_store(invoice_id, prepared)

    async def _render_then_store(self, invoice_id: int, prepared: PreparedDocument) -> InvoicePdf:
        started = time.perf_counter()
        try:
            rendered = await self.documents.render(prepared)
        except RenderFailed as error:
            log.error(
                "invoice %s: WeasyPrint failed with %s: %s", invoice_id, prepared.template, error
            )
            raise render_failed(error) from None
        seconds = time.perf_counter() - started
        PDF_RENDER_SECONDS.observe(seconds)
        PDF_SIZE_BYTES.observe(len(rendered.data))
        digest = hashlib.sha256(rendered.data).hexdigest()
        now = utcnow()
        row = InvoicePdfCache(
            invoice_id=invoice_id,
            pdf=rendered.data,
            filename=pdf_filename(invoice_id),
            sha256=digest,
            render_key=prepared.key,
            size_bytes=len(rendered.data),
            page_count=rendered.page_count,
            created_at=now,
            last_accessed=now,
        )
        try:
            async with self.db.transaction() as session:
                await session.execute(
                    delete(InvoicePdfCache).where(InvoicePdfCache.invoice_id == invoice_id)
                )
                session.add(row)
        except IntegrityError:
            # Another process stored this invoice's PDF at the same moment; either is good.
            log.info("invoice %s: PDF stored concurrently by another process", invoice_id)
        else:
            # Logged once stored: a render lost to a crash before this line never counted.
            log.info(
                "invoice %s: rendered %d pages, %d bytes in %.0f ms",
                invoice_id,
                rendered.page_count,
                len(rendered.data),
                seconds * 1000,
            )
        return InvoicePdf(
            invoice_id, rendered.data, row.filename, digest, rendered.page_count, now, hit=False
        )

    def prerender(self, invoice_ids: list[int]) -> None:
        """Render in the background, so the first download is already a hit."""
        if not self.settings.invoice.pdf_cache.prerender_on_generate:
            return

        async def run() -> None:
            for invoice_id in invoice_ids:
                try:
                    await self.get(SYSTEM, invoice_id)
                except DomainError as error:
                    log.warning("pre-rendering invoice %s failed: %s", invoice_id, error.message)

        task: asyncio.Task[object] = asyncio.create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @property
    def background_jobs(self) -> int:
        return len(self._background)

    async def wait_for_background(self) -> None:
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def statuses(self, viewer: Viewer, invoice_ids: list[int]) -> dict[int, PdfStatus]:
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(
                        InvoicePdfCache.invoice_id,
                        InvoicePdfCache.sha256,
                        InvoicePdfCache.created_at,
                        InvoicePdfCache.render_key,
                        InvoicePdfCache.size_bytes,
                        InvoicePdfCache.page_count,
                    ).where(InvoicePdfCache.invoice_id.in_(invoice_ids))
                )
            ).all()
        found = {}
        for invoice_id, sha256, created_at, key, size, pages in rows:
            try:
                current = (await self._prepare(viewer, invoice_id)).key
            except DomainError:
                current = None  # a broken template: what is cached no longer matches anything
            found[invoice_id] = PdfStatus(sha256, created_at, current != key, size, pages)
        return found

    async def draft(self, document: InvoiceDocument) -> bytes:
        """A DRAFT of what would be billed; rendered on request and never stored."""
        try:
            prepared = await self.documents.prepare_off_loop(replace(document, draft=True))
            return (await self.documents.render(prepared)).data
        except (TemplateFailure, RenderFailed) as error:
            raise render_failed(error) from None

    async def clear(self, viewer: Viewer, invoice_id: int | None = None) -> int:
        require_staff(viewer)
        async with self.db.transaction() as session:
            query = delete(InvoicePdfCache)
            if invoice_id is not None:
                query = query.where(InvoicePdfCache.invoice_id == invoice_id)
            return (await session.execute(query)).rowcount

    async def prune(self, now: datetime | None = None) -> PruneReport:
        """Drop PDFs too old, idle too long, then the least recently used beyond the size cap."""
        limits = self.settings.invoice.pdf_cache
        now = now or utcnow()
        async with self.db.transaction() as session:
            freed = 0

            async def drop(condition) -> int:
                nonlocal freed
                size = (
                    await session.execute(
                        select(func.coalesce(func.sum(InvoicePdfCache.size_bytes), 0)).where(
                            condition
                        )
                    )
                ).scalar_one()
                freed += int(size)
                return (await session.execute(delete(InvoicePdfCache).where(condition))).rowcount

            too_old = await drop(
                InvoicePdfCache.created_at < now - timedelta(days=limits.max_age_days)
            )
            idle = await drop(
                InvoicePdfCache.last_accessed < now - timedelta(days=limits.max_idle_days)
            )
            cap = limits.max_total_mb * 1024 * 1024
            rows = (
                await session.execute(
                    select(InvoicePdfCache.id, InvoicePdfCache.size_bytes).order_by(
                        InvoicePdfCache.last_accessed.desc(), InvoicePdfCache.id.desc()
                    )
                )
            ).all()
            kept, evict = 0, []
            for row_id, size in rows:
                kept += size
                if kept > cap:  # this one and every one used less recently
                    evict.append(row_id)
            over_size = await drop(InvoicePdfCache.id.in_(evict)) if evict else 0
        return PruneReport(too_old, idle, over_size, freed)
