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
workers are spawned, and replaced now and then (memory grows after big renders).
"""

from __future__ import annotations

import asyncio
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

from domain.ports import RenderedPdf, RenderFailed, TemplateFailure

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


class WeasyPrintPool:
    """A pool of render workers, started on first use."""

    def __init__(
        self,
        workers: int = 2,
        tasks_per_worker: int = 200,
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

    async def render(self, html: str, base_dir: str | Path) -> RenderedPdf:
        try:
            result: RenderedPdf = await self._run(
                self.timeout_seconds, render_pdf, html, str(base_dir), self.timeout_seconds
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
