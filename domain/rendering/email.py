"""The invoice email: subject, text body and template variables in the customer's
language, with amounts and dates from the same formatter as the PDF."""

from __future__ import annotations

from collections.abc import Sequence

from domain.config import Settings
from domain.model.entities import Contact, Customer, Invoice
from domain.model.formatting import Formatter
from domain.model.invoice_rules import is_credit_note
from domain.model.texts import text
from domain.ports import InvoiceEmail, Recipient
from domain.rendering.links import pay_url


def invoice_email(
    settings: Settings,
    invoice: Invoice,
    customer: Customer,
    contacts: Sequence[Contact],
    filename: str,
    pdf: bytes,
    view_url: str,
) -> InvoiceEmail:
    """The email; `view_url` is the invoice's page for its customer (links.share_url)."""
    language = customer.language
    business = settings.business
    formatter = Formatter.of(business, language)
    variables = {
        "customer_name": customer.name,
        "invoice_number": invoice.number or "",
        "invoice_date": formatter.long_date(invoice.created_at.astimezone(business.zone)),
        "due_date": formatter.long_date(invoice.due_date),
        "total_amount": formatter.money(invoice.total),
        "invoice_url": view_url,
        "pay_url": pay_url(settings, invoice.id, invoice.number),
    }
    credit = is_credit_note(invoice.total)
    variables["document"] = "credit_note" if credit else "invoice"
    subject_key, body_key = (
        ("credit_note_subject", "credit_note_body") if credit else ("email_subject", "email_body")
    )
    return InvoiceEmail(
        sender=Recipient(settings.mailjet.sender_email, settings.mailjet.sender_name),
        recipients=tuple(Recipient(c.email, c.name) for c in contacts),
        subject=text(language, subject_key, number=invoice.number, business=business.name),
        text_body=text(
            language,
            body_key,
            customer=customer.name,
            number=invoice.number,
            date=variables["invoice_date"],
            total=variables["total_amount"],
            credit=formatter.money(-invoice.total),
            due=variables["due_date"],
            pay_url=variables["pay_url"],
            invoice_url=variables["invoice_url"],
            business=business.name,
        ),
        template_id=settings.mailjet.invoice_template_id,
        variables=variables,
        attachment_name=filename,
        attachment=pdf,
    )
