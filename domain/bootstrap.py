"""Wiring: what a running process holds, opened once at start from the settings.

The adapters are chosen here and nowhere else: Stripe for cards, Mailjet or the outbox for
email (email.backend), WeasyPrint for PDFs, SaxonC and lxml for the EN 16931 rules, a local or a Redis work queue
(workers.backend), httpx for webhooks, Prometheus for metrics, the system clock (tests hand
in their own).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from domain.adapters.clock import SystemClock
from domain.adapters.en16931_rules import En16931Rules
from domain.adapters.font_coverage import InstalledFonts
from domain.adapters.local_queue import LocalWorkQueue
from domain.adapters.metrics import PrometheusMetrics, serve_metrics
from domain.adapters.outbox import OutboxSender
from domain.adapters.stripe_gateway import StripeGateway
from domain.adapters.weasyprint_pool import WeasyPrintPool
from domain.adapters.webhook_http import HttpWebhookSender
from domain.config import Settings
from domain.ports import (
    CardGateway,
    Clock,
    EInvoiceValidator,
    GlyphCoverage,
    Jobs,
    MailSender,
    Metrics,
    PdfRenderer,
    WebhookSender,
    WorkQueue,
)
from domain.rendering.renderer import DocumentRenderer
from domain.services.einvoice_checks import EInvoiceChecks
from domain.services.einvoices import EInvoices
from domain.services.invoice_pdfs import InvoicePdfs
from domain.store.database import Database
from domain.worker import RuntimeJobs

log = logging.getLogger("invoicing")


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock
    renderer: PdfRenderer
    pdfs: InvoicePdfs
    cards: CardGateway
    mail: MailSender
    work: WorkQueue
    metrics: Metrics
    webhooks: WebhookSender
    einvoices: EInvoices
    # What the queue's jobs and the periodic rounds run, made once: the local queue runs
    # them in this process, a worker (`invoicing worker`) takes them from Redis.
    jobs: RuntimeJobs

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock | None = None) -> Runtime:
        clock = clock or SystemClock()
        db = open_database(settings, clock)
        renderer = open_renderer(settings)
        metrics = PrometheusMetrics()
        cards = StripeGateway(settings.stripe)
        glyphs = open_glyph_coverage(settings.invoice.template_dir)
        checks = EInvoiceChecks(settings, open_einvoice_rules(settings.einvoice.rules_dir))
        documents = DocumentRenderer(settings, renderer)
        pdfs = InvoicePdfs(db, settings, documents, metrics, glyphs, checks)
        webhooks = open_webhook_sender(settings)
        prerender = settings.invoice.pdf_cache.prerender_on_generate
        mail = open_mail(settings, clock)
        jobs = RuntimeJobs(db, settings, pdfs, cards, metrics, webhooks, mail)
        work: WorkQueue
        if settings.workers.backend == "redis":
            from domain.adapters.redis_queue import RedisWorkQueue  # arq: only when chosen

            work = RedisWorkQueue(settings.workers, prerender=prerender)
        else:
            work = LocalWorkQueue(jobs, prerender=prerender)
        return cls(
            settings=settings,
            db=db,
            clock=clock,
            renderer=renderer,
            pdfs=pdfs,
            cards=cards,
            mail=mail,
            work=work,
            metrics=metrics,
            webhooks=webhooks,
            einvoices=EInvoices(settings, pdfs, checks),
            jobs=jobs,
        )

    async def periodic_jobs(self) -> None:
        """With workers.backend: local there are no workers to run the periodic jobs: the
        API process runs them (`invoicing serve`); runs until cancelled."""
        jobs = self.jobs
        await asyncio.gather(
            every(self.settings.payments.reconcile_every_seconds, jobs.reconcile_payments),
            every(self.settings.webhooks.dispatch_every_seconds, jobs.dispatch_webhooks),
            every(self.settings.dunning.run_every_seconds, jobs.run_dunning),
        )

    async def close(self) -> None:
        await self.work.close()
        await self.webhooks.close()
        self.renderer.close()
        self.einvoices.checks.validator.close()
        await self.db.dispose()


async def _rounds(settings: Settings, jobs: Jobs) -> None:
    """A worker's own periodic rounds, beside the jobs it takes from the queue."""
    await asyncio.gather(
        every(settings.webhooks.dispatch_every_seconds, jobs.dispatch_webhooks),
        every(settings.dunning.run_every_seconds, jobs.run_dunning),
    )


async def every(seconds: float, job: Callable[[], Awaitable[None]]) -> None:
    """Run `job` every `seconds` until cancelled; one bad round does not end the rounds."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except Exception:
            log.exception("periodic job %s failed; next round", job.__name__)


def open_database(settings: Settings, clock: Clock | None = None) -> Database:
    return Database.from_settings(
        settings.database, clock or SystemClock(), settings.limits.statement_timeout_seconds
    )


def open_renderer(settings: Settings, workers: int | None = None) -> PdfRenderer:
    return WeasyPrintPool(
        workers=workers or settings.invoice.render_workers,
        timeout_seconds=settings.invoice.render_timeout_seconds,
        template_timeout_seconds=settings.invoice.template_timeout_seconds,
        memory_mb=settings.invoice.render_memory_mb,
    )


def open_einvoice_rules(rules_dir: str) -> EInvoiceValidator:
    return En16931Rules(rules_dir)


def open_glyph_coverage(template_dir: str | Path) -> GlyphCoverage:
    return InstalledFonts(template_dir)


def open_webhook_sender(settings: Settings) -> WebhookSender:
    return HttpWebhookSender(
        timeout_seconds=settings.webhooks.timeout_seconds,
        allow_private_targets=settings.webhooks.allow_private_targets,
    )


def open_mail(settings: Settings, clock: Clock) -> MailSender:
    if settings.email.backend == "mailjet":
        from domain.adapters.mailjet import MailjetSender  # mailjet-rest: only when chosen

        return MailjetSender(settings.mailjet)
    return OutboxSender(settings.email, clock)


def run_worker(settings: Settings, metrics_port: int | None = None, metrics_host: str = "") -> None:
    """`invoicing worker`: run queued jobs from Redis until stopped, with a runtime of its own."""
    from domain.adapters.redis_queue import build_worker

    if metrics_port is not None:
        serve_metrics(metrics_port, metrics_host)

    async def open_jobs() -> tuple[Jobs, Callable[[], Awaitable[None]]]:
        runtime = Runtime.open(settings)
        return runtime.jobs, runtime.close

    prerender = settings.invoice.pdf_cache.prerender_on_generate
    build_worker(
        settings.workers,
        open_jobs,
        render_after_billing=prerender,
        reconcile_every_seconds=settings.payments.reconcile_every_seconds,
        # Each worker sends its own webhook and dunning rounds; their claims keep them from
        # sending one delivery or reminder twice.
        beside=lambda jobs: _rounds(settings, jobs),
    ).run()
