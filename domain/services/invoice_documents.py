"""Stored invoices as their PDF, e-invoice and page show them (rendering/documents.py's
`InvoiceDocument`): the invoice, its frozen lines, its pay link and, while it is open, its
payment plan.

Lines are frozen when an invoice is generated, so this process remembers them (the last
LINES_MEMO_SIZE invoices), with the invoice's creation time: an id can name another
invoice after a backup is restored."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from domain.config import Settings
from domain.errors import NotFound
from domain.model.access import Viewer
from domain.model.entities import Customer, Installment, Invoice, InvoiceLine
from domain.model.invoice_rules import is_open
from domain.rendering.documents import InvoiceDocument, Line, invoice_document, line_of
from domain.rendering.links import pay_url
from domain.store import deployment, pdf_cache
from domain.store.batches import rows_by_parent
from domain.store.database import Database

LINES_MEMO_SIZE = 1024
SECRET_SECONDS = 60


class InvoiceDocuments:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._lines: dict[int, tuple[datetime, tuple[Line, ...]]] = {}
        # The link secret the pay links printed on PDFs are signed with, read at most once a
        # minute (a page of PDF statuses would otherwise read it once per invoice); after
        # `invoicing links rotate` new renders carry new links within that minute.
        self._secret: tuple[float, str] | None = None

    @property
    def known(self) -> set[int]:
        """The invoices whose lines this process remembers (the batch reads skip them)."""
        return set(self._lines)

    async def _link_secret(self) -> str:
        now = time.monotonic()
        if self._secret is None or now - self._secret[0] > SECRET_SECONDS:
            self._secret = (now, await deployment.link_secret(self.db, self.settings))
        return self._secret[1]

    def remember_lines(self, invoice: Invoice, rows: Sequence[InvoiceLine]) -> None:
        self._lines[invoice.id] = (invoice.created_at, tuple(line_of(row) for row in rows))
        while len(self._lines) > LINES_MEMO_SIZE:
            self._lines.pop(next(iter(self._lines)))

    def _remembered(self, invoice: Invoice) -> tuple[Line, ...] | None:
        memo = self._lines.get(invoice.id)
        return memo[1] if memo is not None and memo[0] == invoice.created_at else None

    async def _lines_of(self, invoice: Invoice) -> tuple[Line, ...]:
        lines = self._remembered(invoice)
        if lines is None:
            self.remember_lines(invoice, await pdf_cache.lines_of(self.db, invoice.id))
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
            plan = (await self.plans([invoice]))[invoice.id]
        return invoice_document(invoice, customer, await self._lines_of(invoice), link, plan)

    async def plans(self, invoices: Sequence[Invoice]) -> dict[int, list[Installment]]:
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
        found = await pdf_cache.invoices_with_lines(self.db, invoice_ids, self.known)
        documents = {}
        for invoice, customer, lines in found:
            if not viewer.can_see_customer(invoice.customer_id):
                continue
            if lines is not None:
                self.remember_lines(invoice, lines)
            documents[invoice.id] = (invoice, customer, await self.document(invoice, customer))
        return documents
