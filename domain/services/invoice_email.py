"""emailInvoice: the invoice and its PDF (a Factur-X PDF for a customer who wants one, and
its UBL e-invoice beside it for one who wants that) to the billing contacts (else the
primary ones), through the MailSender port (Mailjet, or the development outbox)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.config import Settings
from domain.errors import DomainError, ErrorCode, NotFound
from domain.model.access import Viewer
from domain.model.einvoice import Syntax
from domain.model.entities import Contact, Customer, Installment, Invoice
from domain.model.enums import ContactType, EInvoiceFormat, EventKind
from domain.model.invoice_rules import ensure_sendable
from domain.ports import EmailAttachment, EmailFailed, MailSender, TemplateFailure
from domain.rendering.email import EmailFacts, email_content, invoice_email
from domain.rendering.links import pay_url, share_url
from domain.services.einvoice_checks import format_for
from domain.services.einvoices import einvoice_filename
from domain.services.invoice_pdfs import InvoicePdfs
from domain.store import deployment, invoice_events
from domain.store.database import Database
from domain.store.locking import lock_invoice
from domain.store.payments import installments_of

log = logging.getLogger("invoicing.email")


async def contacts_of(session: AsyncSession, customer_id: int) -> list[Contact]:
    rows = await session.execute(
        select(Contact).where(Contact.customer_id == customer_id).order_by(Contact.id)
    )
    return list(rows.scalars())


async def email_facts(
    db: Database,
    settings: Settings,
    invoice: Invoice,
    customer: Customer,
    plan: Sequence[Installment],
) -> tuple[EmailFacts, str]:
    """What an email about the invoice (the invoice email, or a reminder of it) says of it,
    its pay link included, and the signed link to the customer's page of it."""
    secret = await deployment.link_secret(db, settings)
    now = db.now()
    view_url = share_url(settings, secret, invoice.id, now)
    pay_link = pay_url(settings, secret, invoice.id, invoice.number, invoice.due_date, now.date())
    return EmailFacts.of_invoice(invoice, customer, pay_link, plan), view_url


def recipients(contacts: list[Contact]) -> list[Contact]:
    """The billing contacts, else the primary ones."""
    billing = [c for c in contacts if c.type is ContactType.BILLING]
    return billing or [c for c in contacts if c.type is ContactType.PRIMARY]


async def email_invoice(
    db: Database,
    settings: Settings,
    viewer: Viewer,
    invoice_id: int,
    pdfs: InvoicePdfs,
    sender: MailSender,
) -> tuple[Invoice, list[str]]:
    """Send the invoice; answers the invoice and the addresses it went to."""
    async with db.read() as session:
        invoice = await session.get(Invoice, invoice_id)
        if invoice is None or not viewer.can_see_customer(invoice.customer_id):
            raise NotFound("Invoice", invoice_id, "id")
        customer = await session.get(Customer, invoice.customer_id)
        contacts = await contacts_of(session, invoice.customer_id)
        plan = await installments_of(session, invoice_id)
    assert customer is not None  # a foreign key guarantees it
    ensure_sendable(invoice)
    chosen = recipients(contacts)
    if not chosen:
        raise DomainError(
            ErrorCode.NO_RECIPIENT,
            f"{customer.name} has no billing or primary contact to send the invoice to.",
        )
    pdf = await pdfs.get(viewer, invoice_id)
    limit_mb = settings.email.attachment_limit_mb
    if len(pdf.data) > limit_mb * 1024 * 1024:
        raise DomainError(
            ErrorCode.ATTACHMENT_TOO_LARGE,
            f"The PDF is {len(pdf.data) / 1024 / 1024:.2f} MB; the email limit is {limit_mb} MB. Nothing was sent.",
        )
    facts, view_url = await email_facts(db, settings, invoice, customer, plan)
    try:
        content = await email_content(settings, pdfs.documents, facts, view_url)
    except TemplateFailure as failure:
        raise DomainError(
            ErrorCode.EMAIL_TEMPLATE_FAILED,
            f"The email template is broken: {failure}. Nothing was sent.",
        ) from None
    attachments = [EmailAttachment(pdf.filename, pdf.data, "application/pdf")]
    ubl = await _ubl_attachment(settings, pdfs, invoice, customer)
    if ubl is not None:
        attachments.append(ubl)
    email = invoice_email(settings, content, chosen, attachments, db.now())
    addresses = ", ".join(recipient.email for recipient in email.recipients)
    event_id = await _claim_send(db, settings, viewer, invoice.id, addresses)
    try:
        await sender.send(email)
    except EmailFailed as failure:
        await invoice_events.settle(db, event_id, EventKind.EMAIL_FAILED, str(failure))
        raise DomainError(
            ErrorCode.EMAIL_PROVIDER_ERROR, f"The invoice email was not sent: {failure}"
        ) from None
    await invoice_events.settle(db, event_id, EventKind.EMAILED, f"sent to {addresses}")
    return invoice, [recipient.email for recipient in email.recipients]


async def _ubl_attachment(
    settings: Settings, pdfs: InvoicePdfs, invoice: Invoice, customer: Customer
) -> EmailAttachment | None:
    """The UBL e-invoice, for a customer who wants one, if it passes the rules (else the
    email goes without it, and the log says which rules it breaks)."""
    if pdfs.checks is None or format_for(customer, settings) is not EInvoiceFormat.UBL:
        return None
    document = await pdfs.invoices.document(invoice, customer)
    xml = await pdfs.checks.passing_xml(document, Syntax.UBL, invoice.id, "emailed without its UBL")
    if xml is None:
        return None
    return EmailAttachment(einvoice_filename(invoice.id, Syntax.UBL), xml, "application/xml")


async def _claim_send(
    db: Database, settings: Settings, viewer: Viewer, invoice_id: int, addresses: str
) -> int:
    """Record the send before the provider is called (settled after), counting a
    customer's own sends of this invoice under its row lock, so parallel requests cannot
    pass the limit together."""
    async with db.transaction() as session:
        await lock_invoice(session, viewer, invoice_id)
        if not viewer.is_staff:
            hours = settings.email.customer_send_window_hours
            sent = await invoice_events.count_since(
                session,
                invoice_id,
                (EventKind.EMAILED, EventKind.EMAIL_FAILED),
                db.now() - timedelta(hours=hours),
                viewer.customer_id,
            )
            allowed = settings.email.customer_sends_per_invoice
            if sent >= allowed:
                raise DomainError(
                    ErrorCode.TOO_MANY_REQUESTS,
                    f"This invoice can be emailed {allowed} times in {hours:g} hours from "
                    "your account, and it has been; try again later or ask us to send it.",
                )
        event = invoice_events.record(
            session,
            invoice_id,
            EventKind.EMAILED,
            viewer,
            f"sending to {addresses}",
            announce=False,  # announced once the provider took it (settle)
        )
        await session.flush()
        return event.id
