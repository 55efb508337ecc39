"""The PdfRenderer port on WeasyPrint, in worker processes, fetching only local template assets.

Rendering is CPU-bound and WeasyPrint is not safe to fork after import, so it runs in a
`spawn` process pool whose workers are replaced now and then (memory grows after big
renders). The event loop stays free to answer other requests meanwhile.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import multiprocessing
import resource
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from domain.ports import RenderedPdf, RenderFailed

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
    """Let this render use at most `seconds` more CPU time; past that the kernel ends the
    worker (SIGXCPU), which a hostile or broken template cannot catch."""
    if seconds is None:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(
        resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard)
    )


def render_pdf(html: str, base_dir: str, cpu_seconds: float | None = None) -> RenderedPdf:
    """Render in this process (the workers call this, with a CPU limit)."""
    from weasyprint import HTML

    _limit_cpu(cpu_seconds)
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


class WeasyPrintPool:
    """A pool of render workers, started on first use."""

    def __init__(
        self, workers: int = 2, tasks_per_worker: int = 200, timeout_seconds: float = 120
    ) -> None:
        self.workers = workers
        self.tasks_per_worker = tasks_per_worker
        self.timeout_seconds = timeout_seconds
        self._pool: ProcessPoolExecutor | None = None

    @property
    def engine(self) -> str:
        """What renders, for render keys: a new WeasyPrint may lay pages out differently."""
        return f"weasyprint {version('weasyprint')}"

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
        job = functools.partial(render_pdf, html, str(base_dir), self.timeout_seconds)
        try:
            future = loop.run_in_executor(self._executor(), job)
        except BrokenProcessPool:
            # An earlier render's worker was ended: this one gets fresh workers.
            self._discard()
            future = loop.run_in_executor(self._executor(), job)
        try:
            return await asyncio.wait_for(future, self.timeout_seconds)
        except TimeoutError:
            # The worker would go on burning CPU until its limit ends it; end it now.
            self._discard()
            raise RenderFailed(f"rendering took longer than {self.timeout_seconds:.0f} s") from None
        except BrokenProcessPool:
            # A worker was ended (its CPU limit, or the out-of-memory killer).
            self._discard()
            raise RenderFailed(
                "the render worker stopped (CPU or memory limit); try a simpler template"
            ) from None

    def _discard(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
