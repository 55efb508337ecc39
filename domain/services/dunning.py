"""A dunning round: for every invoice falling or fallen due, announce it overdue (once per
due date), book the monthly late fees its terms state (once per month), and send the one
reminder of the schedule that is due (once per step). `invoicing dunning run`, and every
`dunning.run_every_seconds` in each worker (or the API process with workers.backend:
local). The rules (overdue, the step, the months, the fee) are model/dunning.py.

Every effect is claimed in the database before it happens, under the invoice's row lock
and a unique key (store/dunning.py), so rounds running at once on several machines do
each thing once; the reminder email is sent with no transaction open and settled after,
like every provider call:

    claim     a Reminder row SENDING for (invoice, due date, step), if none is SENT or
              SENDING for that step or a later one
    send      the MailSender port, no transaction open
    settle    SENT and a REMINDED history event (invoice.reminder_sent), or FAILED, which
              the next round may try again

A round that runs after a missed week sends the latest step due, not the missed ones.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from domain.config import Settings
from domain.errors import DomainError
from domain.model.access import SYSTEM
from domain.model.dunning import (
    days_overdue,
    fee_months_due,
    is_overdue,
    late_fees,
    reminder_due,
)
from domain.model.entities import Contact, Customer, Installment, Invoice
from domain.model.periods import local_day
from domain.ports import EmailAttachment, EmailFailed, InvoiceEmail, MailSender, TemplateFailure
from domain.rendering.email import Reminding, email_content, invoice_email
from domain.services.invoice_email import contacts_of, email_facts, recipients
from domain.services.invoice_pdfs import InvoicePdfs
from domain.store import dunning
from domain.store.database import Database
from domain.store.payments import installments_of

log = logging.getLogger("invoicing.dunning")

ROUND = "dunning"  # who did it, as the invoice's history says
PAGE_SIZE = 500


@dataclass
class DunningReport:
    overdue: list[str] = field(default_factory=list)  # invoice numbers announced
    fees: list[tuple[str, int, Decimal]] = field(default_factory=list)  # number, month, fee
    sent: list[tuple[str, int, str]] = field(default_factory=list)  # number, step, to
    failed: list[tuple[str, int, str]] = field(default_factory=list)  # number, step, why


async def run_round(
    db: Database,
    settings: Settings,
    pdfs: InvoicePdfs,
    mail: MailSender,
    today: date | None = None,
    dry_run: bool = False,
) -> DunningReport:
    """One round on `today` (default: the business's day now); `dry_run` says what it
    would do and does nothing."""
    zone = settings.business.zone
    today = today or local_day(db.now(), zone)
    terms = settings.dunning
    report = DunningReport()
    # The earliest step decides how early an invoice is looked at (-3: three days before).
    horizon = today - timedelta(days=min([*terms.reminder_days, 0]))
    async for page in _falling_due(db, horizon):
        done = await dunning.done_for(db, [invoice for invoice, _ in page])
        for invoice, customer in page:
            announced = invoice.overdue_announced_for == invoice.next_due_date
            if is_overdue(invoice, today) and not announced:
                if dry_run or await dunning.announce_overdue(db, invoice, ROUND):
                    report.overdue.append(invoice.number or "")
            booked = done.fees.get(invoice.id, set())
            await _book_fees(db, settings, invoice, booked, today, dry_run, report)
            step = reminder_due(invoice.next_due_date, terms.reminder_days, today)
            sent = done.reminded.get(invoice.id)
            if (
                step is None
                or not customer.reminders_enabled
                or (sent is not None and sent >= step)
            ):
                continue
            await _remind(db, settings, pdfs, mail, invoice, customer, step, today, dry_run, report)
    return report


async def _falling_due(
    db: Database, horizon: date
) -> AsyncIterator[list[tuple[Invoice, Customer]]]:
    """Open invoices whose next due date is on or before `horizon`, with their customers,
    a page at a time (a range of ix_invoices_collect)."""
    after = 0
    while True:
        async with db.read() as session:
            rows = (
                await session.execute(
                    select(Invoice, Customer)
                    .join(Customer, Customer.id == Invoice.customer_id)
                    .where(
                        Invoice.id > after,
                        *dunning.collectable(),
                        Invoice.next_due_date <= horizon,
                    )
                    .order_by(Invoice.id)
                    .limit(PAGE_SIZE)
                )
            ).all()
        if rows:
            yield [(invoice, customer) for invoice, customer in rows]
        if len(rows) < PAGE_SIZE:
            return
        after = rows[-1][0].id


async def _book_fees(
    db: Database,
    settings: Settings,
    invoice: Invoice,
    booked: set[int],
    today: date,
    dry_run: bool,
    report: DunningReport,
) -> None:
    terms = settings.dunning
    if terms.late_fee_percent_per_month <= 0:
        return
    months = fee_months_due(invoice.next_due_date, terms.late_fee_grace_days, today)
    wanted = [month for month in range(1, months + 1) if month not in booked]
    if not wanted:
        return
    if dry_run:
        fees = late_fees(
            invoice.total - invoice.amount_paid,
            terms.late_fee_percent_per_month,
            wanted,
            invoice.currency,
        )
    else:
        fees = await dunning.book_fees(db, settings, invoice.id, months, ROUND)
    for fee in fees:
        report.fees.append((invoice.number or "", fee.month, fee.amount))


async def _remind(
    db: Database,
    settings: Settings,
    pdfs: InvoicePdfs,
    mail: MailSender,
    invoice: Invoice,
    customer: Customer,
    step: int,
    today: date,
    dry_run: bool,
    report: DunningReport,
) -> None:
    falls_due = invoice.next_due_date
    contacts, plan = await _contacts_and_plan(db, invoice)
    chosen = recipients(contacts)
    number = invoice.number or ""
    if not chosen:
        report.failed.append((number, step, "no billing or primary contact"))
        return
    to = ", ".join(contact.email for contact in chosen)
    if dry_run:
        report.sent.append((number, step, to))
        return
    try:
        email = await _compose(db, settings, pdfs, invoice, customer, plan, chosen, today)
    except (DomainError, TemplateFailure) as error:
        why = error.message if isinstance(error, DomainError) else str(error)
        log.warning("reminder of %s not composed: %s", number, why)
        report.failed.append((number, step, why))
        return
    claim = await dunning.claim_reminder(db, invoice.id, falls_due, step, to)
    if claim is None:
        return  # another round took it, or the invoice was paid meanwhile
    try:
        await mail.send(email)
    except EmailFailed as failure:
        await dunning.settle_reminder(db, claim, sent=False, message=str(failure), actor=ROUND)
        report.failed.append((number, step, str(failure)))
        return
    late = days_overdue(invoice, today)
    said = f"{late} days overdue" if late else f"due {falls_due.isoformat()}"
    await dunning.settle_reminder(
        db, claim, sent=True, message=f"reminder ({said}) sent to {to}", actor=ROUND
    )
    report.sent.append((number, step, to))


async def _contacts_and_plan(
    db: Database, invoice: Invoice
) -> tuple[list[Contact], list[Installment]]:
    async with db.read() as session:
        contacts = await contacts_of(session, invoice.customer_id)
        plan = await installments_of(session, invoice.id)
    return contacts, plan


async def _compose(
    db: Database,
    settings: Settings,
    pdfs: InvoicePdfs,
    invoice: Invoice,
    customer: Customer,
    plan: Sequence[Installment],
    chosen: list[Contact],
    today: date,
) -> InvoiceEmail:
    """The reminder as it goes out: its words, the pay link, the invoice's PDF attached."""
    pdf = await pdfs.get(SYSTEM, invoice.id)
    facts, view_url = await email_facts(db, settings, invoice, customer, plan)
    reminding = Reminding(invoice.next_due_date, (today - invoice.next_due_date).days)
    content = await email_content(settings, pdfs.documents, facts, view_url, reminding)
    attachment = EmailAttachment(pdf.filename, pdf.data, "application/pdf")
    return invoice_email(settings, content, chosen, [attachment], db.now())
