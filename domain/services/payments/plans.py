"""createPaymentPlan and cancelPaymentPlan: what is due of an invoice split into
installments with their own due dates ("High balance: a payment plan is available on
request"). Payments of any method then fill the installments in order (record.py), and
the pay page asks for the next one. Each is one short transaction on the locked invoice.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete

from domain.config import Settings
from domain.errors import DomainError, ErrorCode
from domain.model.access import Viewer, require_staff
from domain.model.entities import Installment, Invoice
from domain.model.enums import EventKind, PaymentMethodKind
from domain.model.invoice_rules import ensure_payable
from domain.model.money import ZERO
from domain.model.payments import PlannedInstallment, ensure_plan
from domain.model.periods import local_day
from domain.store import invoice_events, receivable_totals
from domain.store.database import Database
from domain.store.locking import lock_invoice
from domain.store.payments import installments_of


async def create_payment_plan(
    db: Database,
    settings: Settings,
    viewer: Viewer,
    invoice_id: int,
    planned: Sequence[PlannedInstallment],
) -> Invoice:
    """Split what the invoice has due into `planned`; an invoice has one plan at a time."""
    require_staff(viewer)
    today = local_day(db.now(), settings.business.zone)
    async with db.transaction() as session:
        invoice = await lock_invoice(session, viewer, invoice_id, "invoice_id")
        ensure_payable(invoice, PaymentMethodKind.BANK_TRANSFER)
        if await installments_of(session, invoice.id):
            raise DomainError(
                ErrorCode.PLAN_EXISTS,
                f"Invoice {invoice.number} already has a payment plan; cancel it first.",
                "invoice_id",
            )
        ensure_plan(invoice, planned, today)
        session.add_all(
            Installment(
                invoice_id=invoice.id,
                position=position,
                due_date=part.due_date,
                amount=part.amount,
                amount_paid=ZERO,
            )
            for position, part in enumerate(planned, start=1)
        )
        before = receivable_totals.share(invoice)
        invoice.next_due_date = planned[0].due_date
        await receivable_totals.follow(session, before, invoice)
        schedule = ", ".join(f"{part.amount} on {part.due_date}" for part in planned)
        invoice_events.record(
            session, invoice.id, EventKind.PLAN_CREATED, viewer, f"{len(planned)}: {schedule}"
        )
    return invoice


async def cancel_payment_plan(db: Database, viewer: Viewer, invoice_id: int) -> Invoice:
    """Drop the invoice's plan: what is left is due on the invoice's own due date again.
    Payments already made stay."""
    require_staff(viewer)
    async with db.transaction() as session:
        invoice = await lock_invoice(session, viewer, invoice_id, "invoice_id")
        if not await installments_of(session, invoice.id):
            raise DomainError(
                ErrorCode.NOT_FOUND,
                f"Invoice {invoice.number} has no payment plan.",
                "invoice_id",
            )
        await session.execute(delete(Installment).where(Installment.invoice_id == invoice.id))
        before = receivable_totals.share(invoice)
        invoice.next_due_date = invoice.due_date
        await receivable_totals.follow(session, before, invoice)
        invoice_events.record(
            session, invoice.id, EventKind.PLAN_CANCELLED, viewer, "the payment plan was cancelled"
        )
    return invoice
