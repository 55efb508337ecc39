"""Template -> HTML -> PDF for any document: invoices, drafts and designers' fixtures.

`prepare` turns a document into its page's HTML and the render key of its PDF: a hash of
the HTML (so of the invoice's data, its lines, the customer, the template and its
includes), of every local asset the page uses, and of the renderer's identity. Voiding,
paying, editing a template or its CSS all change the key, so a stale PDF is never served
and nobody has to remember to clear anything.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from domain.config import Settings
from domain.model.invoice_rules import pdf_filename
from domain.ports import EmbeddedInvoice, PdfRenderer, RenderedPdf
from domain.rendering.documents import InvoiceDocument
from domain.rendering.templating import Assets, TemplateSet, render_key, render_page
from domain.rendering.variables import template_variables

HTML_MEMO_SIZE = 256
# Bumped when a change of ours (not of a template) changes what a PDF looks like.
LAYOUT_VERSION = 1


@dataclass(frozen=True)
class PreparedDocument:
    html: str
    template: str
    assets: Assets
    key: str
    # The data's text by field (InvoiceDocument.texts), for checking fonts can draw it.
    texts: dict[str, str] = field(default_factory=dict, compare=False)
    # The e-invoice the PDF carries (Factur-X), if it is to be one.
    embedded: EmbeddedInvoice | None = None
    # What the PDF is called when downloaded or attached (a credit note's says so).
    filename: str = field(default="document.pdf", compare=False)


class DocumentRenderer:
    def __init__(
        self, settings: Settings, renderer: PdfRenderer, templates: TemplateSet | None = None
    ) -> None:
        self.settings = settings
        self.renderer = renderer
        self.templates = templates or TemplateSet(settings.invoice.template_dir)
        self._html: dict[tuple[object, ...], str] = {}
        self._render_settings = {"engine": renderer.engine, "layout": LAYOUT_VERSION}

    async def prepare(
        self,
        document: InvoiceDocument,
        template: str | None = None,
        factur_x: bytes | None = None,
    ) -> PreparedDocument:
        """The page's HTML and its PDF's render key; raises TemplateFailure. With
        `factur_x` (CII XML), the PDF is to be a Factur-X PDF/A-3 carrying it: another
        PDF, so another key (a plain PDF is never served for a Factur-X one, nor back).

        The template runs in a render worker, where one that runs too long or too big is
        stopped (PdfRenderer.render_html), and the event loop stays free meanwhile. The
        HTML is a pure function of the document and the template sources, so it is
        remembered; asset contents are still checked on every call (by their stat)."""
        filename = template or self.settings.invoice.template_filename
        language = self.templates.language_for(
            filename, document.client.language, self.settings.business.default_language
        )
        if language != document.client.language:
            document = replace(document, client=replace(document.client, language=language))
        name = self.templates.pick(filename, language)
        memo_key = (document, name, self.templates.sources_signature())
        html = self._html.get(memo_key)
        if html is None:
            variables = template_variables(document, self.settings)
            page = partial(render_page, str(self.templates.directory), name, variables)
            # A changed template's assets are read from its sources parsed anew (20-30 ms
            # at every save of a designer's): in a thread, while a render worker compiles
            # and runs the template, not one after the other on the event loop.
            rendered, assets = await asyncio.gather(
                self.renderer.render_html(page, name),
                asyncio.to_thread(self.templates.assets, name),
            )
            html = self._html[memo_key] = rendered
            while len(self._html) > HTML_MEMO_SIZE:
                self._html.pop(next(iter(self._html)))
        else:
            assets = self.templates.assets(name)
        settings: dict[str, Any] = self._render_settings
        embedded = None
        if factur_x is not None:
            embedded = EmbeddedInvoice(factur_x)
            settings = {**settings, "factur_x": hashlib.sha256(factur_x).hexdigest()}
        key = render_key(html, assets, settings)
        filename = pdf_filename(
            document.invoice_id or 0, document.number, document.subtotal + document.tax
        )
        return PreparedDocument(html, name, assets, key, document.texts(), embedded, filename)

    async def render_template(self, filename: str, language: str, variables: dict[str, Any]) -> str:
        """Any other page of the template folder (the email's HTML part) in its language
        variant, in a render worker with the same limits as an invoice page."""
        name = self.templates.pick(filename, language)
        page = partial(render_page, str(self.templates.directory), name, variables)
        return await self.renderer.render_html(page, name)

    async def render(self, prepared: PreparedDocument) -> RenderedPdf:
        """The PDF; raises RenderFailed."""
        return await self.renderer.render(
            prepared.html, self.templates.directory, prepared.embedded
        )
