"""HTML to PDF with WeasyPrint, in worker processes, fetching only local template assets.

Rendering is CPU-bound and WeasyPrint is not safe to fork after import, so it runs in a
`spawn` process pool whose workers are replaced now and then (memory grows after big
renders). The event loop stays free to answer other requests meanwhile.
"""

from __future__ import annotations

import asyncio
import io
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

log = logging.getLogger("invoicing.pdf")


class RenderFailed(Exception):
    """WeasyPrint could not make a PDF of the page."""


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    page_count: int
    refused_urls: tuple[str, ...] = field(default=())


def _local_fetcher(root: str, refused: list[str]):
    """A URL fetcher that serves data: URIs and files under `root`, and refuses the rest."""
    from weasyprint.urls import URLFetcher

    allowed_root = Path(root).resolve()

    class LocalAssetFetcher(URLFetcher):
        def __init__(self) -> None:
            super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False, timeout=5)

        def fetch(self, url: str, headers=None):
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


def render_pdf(html: str, base_dir: str) -> RenderedPdf:
    """Render in this process (the workers call this)."""
    from weasyprint import HTML

    refused: list[str] = []
    try:
        document = HTML(
            string=html,
            base_url=Path(base_dir).resolve().as_uri() + "/",
            url_fetcher=_local_fetcher(base_dir, refused),
        ).render()
        buffer = io.BytesIO()
        document.write_pdf(buffer)
    except Exception as error:  # WeasyPrint raises many kinds; the caller gets one
        raise RenderFailed(f"{type(error).__name__}: {error}") from None
    return RenderedPdf(buffer.getvalue(), len(document.pages), tuple(refused))


def _warm_up() -> None:
    # Import WeasyPrint (and its fonts) once per worker, not on the first request.
    import weasyprint  # noqa: F401


class PdfRenderer:
    """A pool of render workers, started on first use."""

    def __init__(
        self, workers: int = 2, tasks_per_worker: int = 200, timeout_seconds: float = 120
    ) -> None:
        self.workers = workers
        self.tasks_per_worker = tasks_per_worker
        self.timeout_seconds = timeout_seconds
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                max_tasks_per_child=self.tasks_per_worker,
                initializer=_warm_up,
            )
        return self._pool

    async def render(self, html: str, base_dir: str | Path) -> RenderedPdf:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor(), render_pdf, html, str(base_dir))
        try:
            return await asyncio.wait_for(future, self.timeout_seconds)
        except TimeoutError:
            raise RenderFailed(f"rendering took longer than {self.timeout_seconds:.0f} s") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
