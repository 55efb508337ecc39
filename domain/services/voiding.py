"""voidInvoice: "this invoice should never have existed" (Workflow 7). Its charges become
unbilled again, to be changed and billed anew; the invoice keeps its lines as issued."""

from __future__ import annotations

from sqlalchemy import update

from domain.model.access import Viewer, require_staff
from domain.model.entities import Invoice, Transaction
from domain.model.enums import EventKind, TransactionKind
from domain.model.invoice_rules import ensure_no_open_attempt, ensure_voidable
from domain.model.texts import text
from domain.store import (
    attempts,
    dunning,
    invoice_events,
    invoice_totals,
    receivable_totals,
    title_totals,
)
from domain.store.database import Database
from domain.store.locking import customer_of, lock_invoice


async def void_invoice(db: Database, viewer: Viewer, invoice_id: int) -> Invoice:
    require_staff(viewer)
    async with db.transaction() as session:
        invoice = await lock_invoice(session, viewer, invoice_id)
        ensure_voidable(invoice)
        ensure_no_open_attempt(invoice, await attempts.open_count(session, invoice.id))
        customer = await customer_of(session, invoice)
        before = receivable_totals.share(invoice)
        await invoice_totals.move(session, invoice, void=True)
        invoice.void = True
        await receivable_totals.follow(session, before, invoice)
        invoice.voided_at = db.now()
        titled = text(customer.language, "void_prefix") + invoice.title
        await title_totals.retitle(session, invoice.title, titled)
        invoice.title = titled
        await session.execute(
            update(Transaction)
            .where(Transaction.invoice_id == invoice.id, Transaction.kind == TransactionKind.CHARGE)
            .values(invoice_id=None)
            .execution_options(synchronize_session=False)
        )
        fees = await dunning.drop_unbilled_fees(session, invoice.id)
        invoice_events.record(
            session,
            invoice.id,
            EventKind.VOIDED,
            viewer,
            "its transactions are unbilled again"
            + (f"; {fees} late fees not billed yet removed" if fees else ""),
        )
    return invoice
