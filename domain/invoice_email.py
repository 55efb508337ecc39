"""Emailing an invoice: to the billing contacts (else the primary ones), with its PDF,
through Mailjet's Send API v3.1 or, in development, into an outbox folder as .eml files.
Both go through `email_invoice`, so the outbox shows exactly what a customer would get."""

from __future__ import annotations

import asyncio
import base64
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from babel.dates import format_date
from sqlalchemy import select

from domain import invoice_events
from domain.access import Viewer
from domain.config import EmailSettings, MailjetSettings, Settings
from domain.db import Database
from domain.errors import DomainError, ErrorCode, NotFound
from domain.invoice_events import EventKind
from domain.invoices import pay_url, pdf_url
from domain.metrics import EMAILS, counts_outcomes
from domain.models import Contact, ContactType, Customer, Invoice
from domain.money import format_money
from domain.pdf_cache import InvoicePdfs
from domain.texts import text

log = logging.getLogger("invoicing.email")


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str


@dataclass(frozen=True)
class InvoiceEmail:
    sender: Recipient
    recipients: tuple[Recipient, ...]
    subject: str
    text_body: str
    template_id: int
    variables: dict[str, str]
    attachment_name: str
    attachment: bytes


class EmailFailed(Exception):
    """The provider refused or could not take the message."""


class MailSender(Protocol):
    async def send(self, email: InvoiceEmail) -> None: ...


@counts_outcomes(EMAILS)
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
        assert customer is not None
        contacts = (
            (
                await session.execute(
                    select(Contact).where(Contact.customer_id == customer.id).order_by(Contact.id)
                )
            )
            .scalars()
            .all()
        )
    if invoice.void:
        raise DomainError(
            ErrorCode.ALREADY_VOID, f"Invoice {invoice.number} is void and is not sent."
        )
    chosen = [c for c in contacts if c.type is ContactType.BILLING] or [
        c for c in contacts if c.type is ContactType.PRIMARY
    ]
    if not chosen:
        raise DomainError(
            ErrorCode.NO_RECIPIENT,
            f"{customer.name} has no billing or primary contact to send the invoice to.",
        )
    pdf = await pdfs.get(viewer, invoice_id)
    limit = int(settings.email.attachment_limit_mb * 1024 * 1024)
    if len(pdf.data) > limit:
        raise DomainError(
            ErrorCode.ATTACHMENT_TOO_LARGE,
            f"The PDF is {len(pdf.data) / 1024 / 1024:.2f} MB; the email limit is {settings.email.attachment_limit_mb} MB. Nothing was sent.",
        )
    email = _compose(settings, invoice, customer, chosen, pdf.filename, pdf.data)
    addresses = [recipient.email for recipient in email.recipients]
    try:
        await sender.send(email)
    except EmailFailed as failure:
        await invoice_events.record_alone(
            db, invoice.id, EventKind.EMAIL_FAILED, viewer.name, str(failure)
        )
        raise DomainError(
            ErrorCode.EMAIL_PROVIDER_ERROR, f"The invoice email was not sent: {failure}"
        ) from None
    await invoice_events.record_alone(
        db, invoice.id, EventKind.EMAILED, viewer.name, "sent to " + ", ".join(addresses)
    )
    return invoice, addresses


def _compose(
    settings: Settings,
    invoice: Invoice,
    customer: Customer,
    contacts: list[Contact],
    filename: str,
    pdf: bytes,
) -> InvoiceEmail:
    language = customer.language
    issued = invoice.created_at.astimezone(settings.business.zone).date()
    total = format_money(invoice.total, settings.business.currency_symbol)
    variables = {
        "customer_name": customer.name,
        "invoice_number": invoice.number or "",
        "invoice_date": format_date(issued, format="long", locale=language),
        "due_date": format_date(invoice.due_date, format="long", locale=language),
        "total_amount": total,
        "invoice_url": pdf_url(settings, invoice.id),
        "pay_url": pay_url(settings, invoice),
    }
    business = settings.business.name
    return InvoiceEmail(
        sender=Recipient(settings.mailjet.sender_email, settings.mailjet.sender_name),
        recipients=tuple(Recipient(c.email, c.name) for c in contacts),
        subject=text(language, "email_subject", number=invoice.number, business=business),
        text_body=text(
            language,
            "email_body",
            customer=customer.name,
            number=invoice.number,
            date=variables["invoice_date"],
            total=total,
            due=variables["due_date"],
            pay_url=variables["pay_url"],
            invoice_url=variables["invoice_url"],
            business=business,
        ),
        template_id=settings.mailjet.invoice_template_id,
        variables=variables,
        attachment_name=filename,
        attachment=pdf,
    )


class OutboxSender:
    """Writes each message, attachment included, as an .eml file a developer can open."""

    def __init__(self, settings: EmailSettings) -> None:
        self.folder = Path(settings.outbox_dir)

    async def send(self, email: InvoiceEmail) -> None:
        message = EmailMessage()
        message["From"] = f"{email.sender.name} <{email.sender.email}>"
        message["To"] = ", ".join(f"{r.name} <{r.email}>" for r in email.recipients)
        message["Subject"] = email.subject
        message["X-Mailjet-Template"] = str(email.template_id)
        message.set_content(email.text_body)
        message.add_attachment(
            email.attachment, maintype="application", subtype="pdf", filename=email.attachment_name
        )
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        target = (
            self.folder / f"{stamp}-{email.variables['invoice_number']}-{uuid.uuid4().hex[:8]}.eml"
        )

        def write() -> None:
            self.folder.mkdir(parents=True, exist_ok=True)
            target.write_bytes(bytes(message))

        await asyncio.to_thread(write)
        log.info("invoice email written to %s", target)


class MailjetSender:
    """Mailjet's Send API v3.1 through the official mailjet-rest client."""

    def __init__(self, settings: MailjetSettings) -> None:
        self.settings = settings

    def payload(self, email: InvoiceEmail) -> dict[str, Any]:
        return {
            "Messages": [
                {
                    "From": {"Email": email.sender.email, "Name": email.sender.name},
                    "To": [{"Email": r.email, "Name": r.name} for r in email.recipients],
                    "Subject": email.subject,
                    "TextPart": email.text_body,
                    "TemplateID": email.template_id,
                    # Without it Mailjet ignores Variables.
                    "TemplateLanguage": True,
                    "Variables": email.variables,
                    "Attachments": [
                        {
                            "ContentType": "application/pdf",
                            "Filename": email.attachment_name,
                            "Base64Content": base64.b64encode(email.attachment).decode("ascii"),
                        }
                    ],
                }
            ]
        }

    async def send(self, email: InvoiceEmail) -> None:
        await asyncio.to_thread(self._send, self.payload(email))

    def _send(self, payload: dict[str, Any]) -> None:
        from mailjet_rest import Client
        from mailjet_rest.errors import ApiError

        client = Client(
            auth=(
                self.settings.api_key.get_secret_value(),
                self.settings.api_secret.get_secret_value(),
            ),
            version="v3.1",
            api_url=self.settings.api_url,
        )
        try:
            response = client.send.create(data=payload)
        except ApiError as error:  # newer clients raise on HTTP errors
            raise EmailFailed(str(error)) from None
        except Exception as error:  # requests' connection errors and timeouts
            raise EmailFailed(f"Mailjet could not be reached ({type(error).__name__})") from None
        # Older clients return error responses instead of raising; v3.1 reports per message.
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400:
            raise EmailFailed(
                body.get("ErrorMessage") or f"Mailjet answered HTTP {response.status_code}"
            )
        for message in body.get("Messages", []):
            if message.get("Status") != "success":
                errors = message.get("Errors") or [{}]
                raise EmailFailed(errors[0].get("ErrorMessage") or "Mailjet refused the message")


def sender_for(settings: Settings) -> MailSender:
    if settings.email.backend == "mailjet":
        return MailjetSender(settings.mailjet)
    return OutboxSender(settings.email)
