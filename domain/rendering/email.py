"""The invoice email: one composer for every backend. Subject, text part and the HTML part
(a per-language Jinja template under invoice_templates/email/, sandboxed and time-limited
like the PDF templates) in the customer's language, with amounts and dates from the same
formatter as the PDF; and the same variables for a Mailjet template where one is set."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from email.utils import make_msgid
from typing import Any

from email_validator import EmailNotValidError, validate_email

from domain.config import Settings
from domain.model.entities import Contact, Customer, Installment, Invoice
from domain.model.enums import InvoiceStatus
from domain.model.formatting import Formatter
from domain.model.invoice_rules import is_credit_note
from domain.model.money import ZERO
from domain.model.texts import text
from domain.ports import EmailAttachment, InvoiceEmail, Recipient
from domain.rendering.documents import InvoiceDocument, PlanStep
from domain.rendering.renderer import DocumentRenderer

EMAIL_TEMPLATE = "email/invoice.html"
REMINDER_TEMPLATE = "email/reminder.html"
_STATES = {InvoiceStatus.PAID: "paid", InvoiceStatus.REFUNDED: "refunded"}
# The subject and text of an invoice's email, by its state.
_WORDS = {
    "open": ("email_subject", "email_body"),
    "paid": ("receipt_subject", "receipt_body"),
    "refunded": ("refunded_subject", "refunded_body"),
}


@dataclass(frozen=True)
class EmailFacts:
    """What the email says about the invoice, from a stored invoice or a designer's fixture."""

    customer_name: str
    language: str
    number: str
    issued_at: datetime
    due_date: date
    total: Decimal
    pay_url: str
    currency: str
    # What the email says follows the invoice's state: a paid one's is a receipt, a
    # refunded one's says so; neither asks for money.
    status: InvoiceStatus = InvoiceStatus.UNPAID
    paid_at: datetime | None = None
    # Paid in part: what came in, and the payment plan's installments.
    amount_paid: Decimal = ZERO
    installments: tuple[PlanStep, ...] = ()

    @classmethod
    def of_invoice(
        cls,
        invoice: Invoice,
        customer: Customer,
        pay_link: str,
        installments: Sequence[Installment] = (),
    ) -> EmailFacts:
        return cls(
            customer.name,
            customer.language,
            invoice.number or "",
            invoice.created_at,
            invoice.due_date,
            invoice.total,
            pay_link,
            invoice.currency,
            invoice.status,
            invoice.paid_at,
            invoice.amount_paid,
            tuple(PlanStep(p.due_date, p.amount, p.amount_paid) for p in installments),
        )

    @classmethod
    def of_document(cls, document: InvoiceDocument) -> EmailFacts:
        return cls(
            document.client.name,
            document.client.language,
            document.number,
            document.issued_at,
            document.due_date,
            document.subtotal + document.tax,
            document.payment_url,
            document.currency,
            document.status,
            document.paid_at,
            document.amount_paid,
            document.installments,
        )


@dataclass(frozen=True)
class Reminding:
    """A reminder rather than the invoice email: sent `days` after `falls_due` (the due
    date, or a payment plan's next installment's), negative before it."""

    falls_due: date
    days: int


@dataclass(frozen=True)
class EmailContent:
    language: str
    subject: str
    text_body: str
    html_body: str
    variables: dict[str, str]  # what a Mailjet template is given


def one_line(name: str | None) -> str:
    """A display name on one line: rows saved before line breaks were refused may hold them."""
    return " ".join((name or "").split())


def recipient(name: str | None, address: str) -> Recipient:
    """A mailbox as it goes on the wire: the name on one line, the domain in IDNA form
    (bücher.example -> xn--bcher-kva.example); a non-ASCII local part stays as it is and
    the message is then sent as SMTPUTF8."""
    try:
        checked = validate_email(address, check_deliverability=False)
        address = f"{checked.local_part}@{checked.ascii_domain}"
    except EmailNotValidError:
        pass  # stored before addresses were checked: sent as stored, the provider decides
    return Recipient(address, one_line(name))


async def email_content(
    settings: Settings,
    documents: DocumentRenderer,
    facts: EmailFacts,
    view_url: str,
    reminder: Reminding | None = None,
) -> EmailContent:
    """Subject, text and HTML of the invoice email, or of a reminder of it; raises
    TemplateFailure for a broken template.

    A language without an email template variant is written in the default language,
    words and numbers alike."""
    business = settings.business
    template = EMAIL_TEMPLATE if reminder is None else REMINDER_TEMPLATE
    language = documents.templates.language_for(template, facts.language, business.default_language)
    formatter = Formatter.of(business, language, facts.currency)
    credit = is_credit_note(facts.total)
    state = _STATES.get(facts.status, "open")
    paid_at = facts.paid_at.astimezone(business.zone) if facts.paid_at else None
    variables = {
        "document": "credit_note" if credit else "invoice",
        # open (something is due), paid (a receipt) or refunded: only an open one asks to pay
        "state": state,
        "customer_name": facts.customer_name,
        "invoice_number": facts.number,
        "invoice_date": formatter.long_date(facts.issued_at.astimezone(business.zone)),
        "due_date": formatter.long_date(facts.due_date),
        "paid_date": formatter.long_date(paid_at) if paid_at else "",
        "total_amount": formatter.money(facts.total),
        "invoice_url": view_url,
        "pay_url": facts.pay_url if state == "open" and not credit else "",
    }
    credit_amount = formatter.money(-facts.total)
    open_invoice = state == "open" and not credit
    left = facts.total - facts.amount_paid
    balance = (
        text(
            language,
            "email_balance",
            paid=formatter.money(facts.amount_paid),
            left=formatter.money(left),
        )
        if open_invoice and facts.amount_paid
        else ""
    )
    steps = [
        {
            "due_date": formatter.long_date(step.due_date),
            "amount": formatter.money(step.amount),
            "amount_paid": formatter.money(step.amount_paid),
            "is_paid": step.amount_paid >= step.amount,
        }
        for step in (facts.installments if open_invoice else ())
    ]
    plan = "".join(
        text(
            language,
            "email_plan_step",
            amount=step["amount"],
            due=step["due_date"],
            paid=text(language, "email_plan_paid") if step["is_paid"] else "",
        )
        for step in steps
    )
    plan = text(language, "email_plan") + plan if plan else ""
    # What is still due, and what came in already (empty unless paid in part).
    variables["amount_due"] = formatter.money(left) if open_invoice else ""
    variables["amount_paid"] = formatter.money(facts.amount_paid) if balance else ""
    subject_key, body_key = ("credit_note_subject", "credit_note_body") if credit else _WORDS[state]
    late = 0
    if reminder is not None:
        late = max(reminder.days, 0)
        when = "late" if late else "soon"
        subject_key, body_key = f"reminder_subject_{when}", f"reminder_body_{when}"
        variables["due_date"] = formatter.long_date(reminder.falls_due)
        variables["days_overdue"] = str(late)
    days = text(language, "one_day" if late == 1 else "days", days=late)
    subject = text(
        language,
        subject_key,
        number=facts.number,
        business=business.name,
        days=days,
        due=variables["due_date"],
    )
    text_body = text(
        language,
        body_key,
        customer=facts.customer_name,
        number=facts.number,
        date=variables["invoice_date"],
        total=variables["total_amount"],
        credit=credit_amount,
        due=variables["due_date"],
        paid=variables["paid_date"],
        pay_url=variables["pay_url"],
        invoice_url=view_url,
        business=business.name,
        balance=balance,
        plan=plan,
        days=days,
        left=variables["amount_due"],
    )
    page: dict[str, Any] = {
        **variables,
        "subject": subject,
        "language": language,
        "credit_amount": credit_amount,
        "installments": steps,
        "business": {
            "name": business.name,
            "address": list(business.address),
            "email": business.email,
            "phone": business.phone,
        },
    }
    html = await documents.render_template(template, language, page)
    html = html if html.endswith("\n") else html + "\n"  # as MIME carries it, for Mailjet too
    return EmailContent(language, subject, text_body, html, variables)


def invoice_email(
    settings: Settings,
    content: EmailContent,
    contacts: Sequence[Contact],
    attachments: Sequence[EmailAttachment],
    written_at: datetime,
) -> InvoiceEmail:
    return InvoiceEmail(
        sender=recipient(settings.mailjet.sender_name, settings.mailjet.sender_email),
        recipients=tuple(recipient(c.name, c.email) for c in contacts),
        subject=content.subject,
        text_body=content.text_body,
        html_body=content.html_body,
        template_id=settings.mailjet.invoice_template_id,
        variables=content.variables,
        attachments=tuple(attachments),
        written_at=written_at,
        message_id=make_msgid(domain=settings.mailjet.sender_email.rpartition("@")[2]),
    )
