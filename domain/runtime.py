"""What a running process holds, opened once at start: settings, the database, the PDF
renderer (whose worker processes start on first use), the card gateway and the mailer."""

from __future__ import annotations

from dataclasses import dataclass

from domain.card_gateway import CardGateway, StripeGateway
from domain.config import Settings
from domain.db import Database
from domain.invoice_email import MailSender, sender_for
from domain.pdf_cache import DocumentRenderer, InvoicePdfs
from domain.pdf_renderer import PdfRenderer


@dataclass
class Runtime:
    settings: Settings
    db: Database
    renderer: PdfRenderer
    pdfs: InvoicePdfs
    cards: CardGateway
    mail: MailSender

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        db = Database.from_settings(settings.database, settings.limits.statement_timeout_seconds)
        renderer = PdfRenderer(
            workers=settings.invoice.render_workers,
            timeout_seconds=settings.invoice.render_timeout_seconds,
        )
        pdfs = InvoicePdfs(db, settings, DocumentRenderer(settings, renderer))
        return cls(
            settings=settings,
            db=db,
            renderer=renderer,
            pdfs=pdfs,
            cards=StripeGateway(settings.stripe),
            mail=sender_for(settings),
        )

    async def close(self) -> None:
        await self.pdfs.wait_for_background()
        self.renderer.close()
        await self.db.dispose()
