"""The PdfRenderer port: Jinja templates to HTML and WeasyPrint HTML to PDF, both in worker
processes, fetching only local template assets.

Why worker processes, for both steps: a template is code its author controls (a loop can
run forever), and rendering is CPU-bound; in a worker each call has a wall-clock timeout
and a CPU limit, and the event loop stays free to answer other requests.

The pool is pebble's: a call that overruns its timeout ends only the worker running it (a
fresh one replaces it), and the timeout counts from the moment a worker takes the call.
Calls wait their turn here (one per free worker, first come first served), so time spent
waiting never counts as render time. Each worker's address space is limited too
(`invoice.render_memory_mb`), so a template asking for gigabytes gets a MemoryError. WeasyPrint is not safe to fork after import, so the
workers are spawned, and replaced every 1000 calls: a new one costs about 0.7 s (Python,
WeasyPrint's import, cold font caches), and a worker's memory stays within 200 MB over
hundreds of renders, 1000-line ones among them (measured), so replacing it sooner only
costs time.
"""

from __future__ import annotations

import asyncio
import gc
import io
import logging
import multiprocessing
import resource
import signal
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pebble import ProcessExpired, ProcessPool

from domain.ports import EmbeddedInvoice, RenderedPdf, RenderFailed, TemplateFailure

log = logging.getLogger("invoicing.pdf")


def _local_fetcher(root: str, refused: list[str]) -> Any:
    """A URL fetcher that serves data: URIs and files under `root`, and refuses the rest."""
    from weasyprint.urls import URLFetcher

    allowed_root = Path(root).resolve()

    class LocalAssetFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no types
        def __init__(self) -> None:
            super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False, timeout=5)

        def fetch(self, url: str, headers: Any = None) -> Any:
            parts = urlsplit(url)
            if parts.scheme == "file":
                path = Path(unquote(parts.path)).resolve()
                # A file fetch has no timeout (/dev/urandom never ends): only regular files
                # inside the template folder.
                if not path.is_relative_to(allowed_root) or not path.is_file():
                    refused.append(url)
                    raise ValueError(f"refused: {url} is outside the template folder")
            elif parts.scheme != "data":
                refused.append(url)
                raise ValueError(f"refused: {url} (only local template assets are fetched)")
            return super().fetch(url, headers)

    return LocalAssetFetcher()


def _limit_cpu(seconds: float | None) -> None:
    """Let this call use at most `seconds` more CPU time; past that the kernel ends the
    worker (SIGXCPU), which a hostile or broken template cannot catch."""
    if seconds is None:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(
        resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard)
    )


# The Factur-X XMP properties, and the PDF/A extension schema that declares them (without
# it a PDF/A validator refuses properties it does not know).
_FACTUR_X_NS = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
# A property's prefix must be the one its extension schema declares (fx).
_XMP_PREFIXES = {
    "fx": _FACTUR_X_NS,
    "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
}
_FACTUR_X_PROPERTIES = (
    ("DocumentFileName", "The name of the embedded XML invoice file"),
    ("DocumentType", "INVOICE"),
    ("Version", "The version of the Factur-X XML schema"),
    ("ConformanceLevel", "The conformance level of the embedded Factur-X data"),
)


def factur_x_xmp(embedded: EmbeddedInvoice) -> bytes:
    """The rdf:RDF WeasyPrint adds to the PDF's XMP metadata for a Factur-X invoice."""
    from xml.sax.saxutils import escape

    values = {
        "DocumentFileName": embedded.filename,
        "DocumentType": embedded.document_type,
        "Version": "1.0",
        "ConformanceLevel": embedded.conformance_level,
    }
    properties = "".join(
        f"<fx:{name}>{escape(value)}</fx:{name}>" for name, value in values.items()
    )
    declared = "".join(
        '<rdf:li rdf:parseType="Resource">'
        f"<pdfaProperty:name>{name}</pdfaProperty:name>"
        "<pdfaProperty:valueType>Text</pdfaProperty:valueType>"
        "<pdfaProperty:category>external</pdfaProperty:category>"
        f"<pdfaProperty:description>{description}</pdfaProperty:description>"
        "</rdf:li>"
        for name, description in _FACTUR_X_PROPERTIES
    )
    schema_prefixes = "".join(
        f' xmlns:{prefix}="{uri}"' for prefix, uri in _XMP_PREFIXES.items() if prefix != "fx"
    )
    return (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:fx="{_FACTUR_X_NS}">{properties}</rdf:Description>'
        f'<rdf:Description rdf:about=""{schema_prefixes}>'
        '<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">'
        "<pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>"
        f"<pdfaSchema:namespaceURI>{_FACTUR_X_NS}</pdfaSchema:namespaceURI>"
        "<pdfaSchema:prefix>fx</pdfaSchema:prefix>"
        f"<pdfaSchema:property><rdf:Seq>{declared}</rdf:Seq></pdfaSchema:property>"
        "</rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description></rdf:RDF>"
    ).encode()


# One font configuration per template folder, kept across the renders of a worker process:
# a fresh one per render reloads fontconfig and starts Pango's font caches cold, about a
# tenth of a small invoice's render. Only for folders whose stylesheets declare no
# @font-face (those fonts stay in a configuration, where another template could find them).
_FONTS: dict[str, Any] = {}
# Per template folder: its stylesheets' signature when last read, and the answer.
_DECLARES_FONTS: dict[str, tuple[int, bool]] = {}


def _declares_fonts(base_dir: str) -> bool:
    """Whether any stylesheet under `base_dir` declares a web font (@font-face); read
    again only when a stylesheet changes."""
    sheets = sorted(Path(base_dir).rglob("*.css"))
    signature = hash(tuple((str(p), p.stat().st_mtime_ns) for p in sheets))
    known = _DECLARES_FONTS.get(base_dir)
    if known is not None and known[0] == signature:
        return known[1]
    found = any(b"@font-face" in p.read_bytes().lower() for p in sheets)
    _DECLARES_FONTS[base_dir] = (signature, found)
    return found


def _font_config(html: str, base_dir: str) -> Any:
    from weasyprint.text.fonts import FontConfiguration

    if "@font-face" in html.lower() or _declares_fonts(base_dir):
        return FontConfiguration()
    kept = _FONTS.get(base_dir)
    if kept is None:
        kept = _FONTS[base_dir] = FontConfiguration()
    return kept


def _declare_factur_x(metadata: Any, embedded: EmbeddedInvoice) -> None:
    """Put the Factur-X properties in the XMP packet's one rdf:RDF, beside WeasyPrint's own
    (its `xmp_metadata` would add a second rdf:RDF, which XMP readers such as pikepdf's
    do not see)."""
    from xml.etree import ElementTree

    for prefix, uri in _XMP_PREFIXES.items():
        ElementTree.register_namespace(prefix, uri)
    own = metadata.generate_rdf_metadata

    def with_factur_x(*args: Any) -> bytes:
        rdf = ElementTree.fromstring(own(*args))
        rdf.extend(ElementTree.fromstring(factur_x_xmp(embedded)))
        merged: bytes = ElementTree.tostring(rdf, encoding="utf-8")
        return merged

    metadata.generate_rdf_metadata = with_factur_x


def render_pdf(
    html: str,
    base_dir: str,
    cpu_seconds: float | None = None,
    embedded: EmbeddedInvoice | None = None,
) -> RenderedPdf:
    """Render in this process (the workers call this, with a CPU limit). With `embedded`,
    a Factur-X invoice: PDF/A-3b (sRGB output intent, fonts embedded, XMP metadata) with
    the XML attached as the PDF's "Alternative" representation.

    Python's cycle collector is off while WeasyPrint works, and runs once when the
    document is gone: a render allocates hundreds of thousands of boxes and styles that
    live until it ends, and the collector, started by allocation counts, walks them again
    and again for nothing (a fifth of a 1000-line render's time, bench/pdf.py). The one
    collection after frees the render's cycles, so memory stays what it was."""
    _limit_cpu(cpu_seconds)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _render(html, base_dir, embedded)
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


def _render(html: str, base_dir: str, embedded: EmbeddedInvoice | None) -> RenderedPdf:
    from weasyprint import HTML, Attachment

    refused: list[str] = []
    try:
        document = HTML(
            string=html,
            base_url=Path(base_dir).resolve().as_uri() + "/",
            url_fetcher=_local_fetcher(base_dir, refused),
        ).render(font_config=_font_config(html, base_dir))
        options: dict[str, Any] = {}
        if embedded is not None:
            document.metadata.attachments = [
                Attachment(
                    file_obj=io.BytesIO(embedded.xml),
                    name=embedded.filename,
                    description="Factur-X invoice",
                    relationship="Alternative",
                )
            ]
            _declare_factur_x(document.metadata, embedded)
            options["pdf_variant"] = "pdf/a-3b"
        buffer = io.BytesIO()
        document.write_pdf(buffer, **options)
    except Exception as error:  # WeasyPrint raises many kinds; the caller gets one
        raise RenderFailed(f"{type(error).__name__}: {error}") from None
    return RenderedPdf(buffer.getvalue(), len(document.pages), tuple(refused))


def run_page(page: Callable[[], str], cpu_seconds: float | None) -> str:
    """Render a page in this process (the workers call this, with a CPU limit)."""
    _limit_cpu(cpu_seconds)
    return page()


def _warm_up(memory_bytes: int | None) -> None:
    # Ctrl+C reaches the whole process group: the parent stops the pool; a worker that
    # handled it too would print a KeyboardInterrupt traceback per worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A template can ask for memory ({{ "x" * 10**10 }}): past the limit, it gets a
    # MemoryError (a template error) instead of the machine's memory.
    if memory_bytes is not None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # Import WeasyPrint (and its fonts) once per worker, not on the first request.
    import weasyprint  # noqa: F401

    # What the imports made lives as long as the worker: out of the collector's way.
    gc.freeze()


class WeasyPrintPool:
    """A pool of render workers, started on first use."""

    def __init__(
        self,
        workers: int = 2,
        tasks_per_worker: int = 1000,
        timeout_seconds: float = 120,
        template_timeout_seconds: float = 10,
        memory_mb: int | None = 2048,
    ) -> None:
        self.workers = workers
        self.memory_mb = memory_mb
        self.tasks_per_worker = tasks_per_worker
        self.timeout_seconds = timeout_seconds
        self.template_timeout_seconds = template_timeout_seconds
        self._pool: ProcessPool | None = None
        self._turns: asyncio.Semaphore | None = None

    @property
    def engine(self) -> str:
        """What renders, for render keys: a new WeasyPrint may lay pages out differently."""
        return f"weasyprint {version('weasyprint')}"

    def _executor(self) -> ProcessPool:
        if self._pool is None or not self._pool.active:
            self._pool = ProcessPool(
                max_workers=self.workers,
                max_tasks=self.tasks_per_worker,
                initializer=_warm_up,
                initargs=(self.memory_mb * 2**20 if self.memory_mb else None,),
                context=multiprocessing.get_context("spawn"),
            )
        return self._pool

    async def _run(self, limit_seconds: float, function: Any, *args: Any) -> Any:
        if self._turns is None:
            self._turns = asyncio.Semaphore(self.workers)
        async with self._turns:  # a worker is free: the timeout counts its time only
            future = self._executor().submit(function, limit_seconds, *args)
            return await asyncio.wrap_future(future)

    async def render(
        self, html: str, base_dir: str | Path, embedded: EmbeddedInvoice | None = None
    ) -> RenderedPdf:
        try:
            result: RenderedPdf = await self._run(
                self.timeout_seconds,
                render_pdf,
                html,
                str(base_dir),
                self.timeout_seconds,
                embedded,
            )
        except FutureTimeout:
            raise RenderFailed(f"rendering took longer than {self.timeout_seconds:.0f} s") from None
        except ProcessExpired:
            raise RenderFailed(
                "the render worker stopped (CPU or memory limit); try a simpler template"
            ) from None
        return result

    async def render_html(self, page: Callable[[], str], template: str) -> str:
        limit = self.template_timeout_seconds
        try:
            html: str = await self._run(limit, run_page, page, limit)
        except FutureTimeout:
            raise TemplateFailure(
                template, None, f"the template ran longer than {limit:.0f} s"
            ) from None
        except ProcessExpired:
            raise TemplateFailure(
                template, None, "the template used too much CPU or memory"
            ) from None
        return html

    def close(self) -> None:
        if self._pool is not None:
            self._pool.stop()  # type: ignore[no-untyped-call]
            self._pool.join(timeout=5)
            self._pool = None
