"""What a running process holds, opened once at start: settings, the database, the PDF
renderer (whose worker processes start on first use), the card gateway, the mailer and
the work queue."""

from __future__ import annotations

from dataclasses import dataclass

from domain.card_gateway import CardGateway, StripeGateway
from domain.config import Settings
from domain.db import Database
from domain.invoice_email import MailSender, sender_for
from domain.pdf_cache import DocumentRenderer, InvoicePdfs
from domain.pdf_renderer import PdfRenderer
from domain.work_queue import LocalWorkQueue, WorkQueue


@dataclass
class Runtime:
    settings: Settings
    db: Database
    renderer: PdfRenderer
    pdfs: InvoicePdfs
    cards: CardGateway
    mail: MailSender
    work: WorkQueue

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        db = Database.from_settings(settings.database, settings.limits.statement_timeout_seconds)
        renderer = PdfRenderer(
            workers=settings.invoice.render_workers,
            timeout_seconds=settings.invoice.render_timeout_seconds,
        )
        pdfs = InvoicePdfs(db, settings, DocumentRenderer(settings, renderer))
        work: WorkQueue
        if settings.workers.backend == "redis":
            from domain.redis_work import RedisWorkQueue

            work = RedisWorkQueue(db, settings)
        else:
            work = LocalWorkQueue(db, settings, pdfs)
        return cls(
            settings=settings,
            db=db,
            renderer=renderer,
            pdfs=pdfs,
            cards=StripeGateway(settings.stripe),
            mail=sender_for(settings),
            work=work,
        )

    async def close(self) -> None:
        await self.work.close()
        await self.pdfs.wait_for_background()
        self.renderer.close()
        await self.db.dispose()
