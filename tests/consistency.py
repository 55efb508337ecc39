"""What must hold in the database whatever happened to it: every transaction billed at most
once and on the invoice that lists it, totals equal to their lines, the stats summary equal
to a recount."""

from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from domain.model.entities import Invoice, InvoiceLine, Transaction
from domain.model.enums import TransactionKind
from domain.store import invoice_totals
from domain.store.database import Database

UTC = ZoneInfo("UTC")


async def assert_consistent(db: Database, zone: ZoneInfo = UTC) -> None:
    async with db.read() as session:
        # Voiding an invoice frees its charges to be billed again; its lines stay as issued.
        live_lines = (
            select(InvoiceLine.transaction_id, InvoiceLine.invoice_id)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(Invoice.void.is_(False))
            .subquery()
        )
        listed_twice = (
            await session.execute(
                select(live_lines.c.transaction_id)
                .group_by(live_lines.c.transaction_id)
                .having(func.count(live_lines.c.invoice_id) > 1)
            )
        ).all()
        assert listed_twice == [], f"charges on two live invoices: {listed_twice}"
        mismatched = (
            await session.execute(
                select(Transaction.id)
                .join(live_lines, live_lines.c.transaction_id == Transaction.id, isouter=True)
                .where(
                    Transaction.kind == TransactionKind.CHARGE,
                    func.coalesce(Transaction.invoice_id, -1)
                    != func.coalesce(live_lines.c.invoice_id, -1),
                )
            )
        ).all()
        assert mismatched == [], f"charges whose invoice does not list them: {mismatched}"
        sums = (
            select(
                InvoiceLine.invoice_id,
                func.sum(InvoiceLine.retail_cost).label("subtotal"),
                func.sum(InvoiceLine.tax_amount).label("tax"),
            )
            .group_by(InvoiceLine.invoice_id)
            .subquery()
        )
        wrong_totals = (
            await session.execute(
                select(Invoice.id)
                .join(sums, sums.c.invoice_id == Invoice.id, isouter=True)
                .where(
                    (func.coalesce(sums.c.subtotal, 0) != Invoice.subtotal)
                    | (func.coalesce(sums.c.tax, 0) != Invoice.tax)
                    | (Invoice.subtotal + Invoice.tax != Invoice.total)
                )
            )
        ).all()
        assert wrong_totals == [], f"invoices whose totals are not their lines': {wrong_totals}"
    assert await invoice_totals.stored(db) == await invoice_totals.recount(db, zone)
