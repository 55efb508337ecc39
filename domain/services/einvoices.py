"""Invoices as e-invoices for those who may see them (docs/einvoicing.md): the UBL
download (GET /crm/invoice/{id}/ubl) and `Invoice.eInvoice` (which format, where, and
whether it passes the EN 16931 rules, with the rules it breaks).

Only an issued invoice is an e-invoice: a draft has no number, a void invoice has been
cancelled (its e-invoice must not be booked). An e-invoice that breaks a rule is never
handed out; `Invoice.eInvoice` says what to fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.config import Settings
from domain.errors import DomainError, ErrorCode
from domain.model.access import Viewer
from domain.model.einvoice import EInvoiceStatus, Syntax
from domain.model.entities import Invoice
from domain.model.enums import EInvoiceFormat
from domain.rendering.links import einvoice_url, pdf_url
from domain.services.einvoice_checks import EInvoiceChecks, format_for
from domain.services.invoice_pdfs import InvoicePdfs


def ensure_issued(invoice: Invoice) -> None:
    if invoice.void:
        raise DomainError(
            ErrorCode.ALREADY_VOID,
            f"Invoice {invoice.number} is void: it is no longer an e-invoice to book.",
        )


def einvoice_filename(invoice_id: int, syntax: Syntax) -> str:
    return f"Invoice_{invoice_id:05d}.{syntax.value}.xml"


@dataclass(frozen=True)
class EInvoiceFile:
    data: bytes
    filename: str
    sha256: str


class EInvoices:
    def __init__(self, settings: Settings, pdfs: InvoicePdfs, checks: EInvoiceChecks) -> None:
        self.settings = settings
        self.pdfs = pdfs
        self.checks = checks

    async def file(
        self, viewer: Viewer, invoice_id: int, syntax: Syntax = Syntax.UBL
    ) -> EInvoiceFile:
        """The e-invoice of an issued invoice the viewer may see (NOT_FOUND otherwise),
        if it passes the rules (EINVOICE_INVALID otherwise)."""
        invoice, _, document = await self.pdfs.document_of(viewer, invoice_id)
        ensure_issued(invoice)
        verdict = await self.checks.verdict(document, syntax)
        if not verdict.valid:
            raise DomainError(
                ErrorCode.EINVOICE_INVALID,
                f"Invoice {invoice.number} is not a valid e-invoice (it breaks "
                f"{verdict.broken_rules}); Invoice.eInvoice lists what to fix.",
            )
        return EInvoiceFile(verdict.xml, einvoice_filename(invoice.id, syntax), verdict.sha256)

    async def statuses(
        self,
        viewer: Viewer,
        invoice_ids: Sequence[int],
        chosen: EInvoiceFormat | None = None,
    ) -> dict[int, EInvoiceStatus]:
        """For a page of invoices the viewer may see: each issued invoice's e-invoice in
        its customer's format (or `chosen`), checked. Invoices whose format is NONE (and
        nothing chosen) and void invoices have none."""
        found = await self.pdfs.documents_of(viewer, invoice_ids)
        statuses = {}
        for invoice_id, (invoice, customer, document) in found.items():
            own = format_for(customer, self.settings)
            wanted = chosen or own
            if invoice.void or wanted is EInvoiceFormat.NONE:
                continue
            syntax = Syntax.UBL if wanted is EInvoiceFormat.UBL else Syntax.CII
            verdict = await self.checks.verdict(document, syntax)
            url = None
            if verdict.valid and syntax is Syntax.UBL:
                url = einvoice_url(self.settings, invoice_id)
            elif verdict.valid and own is EInvoiceFormat.FACTURX:
                url = pdf_url(self.settings, invoice_id)  # its PDF is the Factur-X invoice
            statuses[invoice_id] = verdict.status(wanted, url)
        return statuses
