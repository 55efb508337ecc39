"""The dunning round's claims: each overdue announcement, late fee and reminder is taken
once, under the invoice's row lock and a unique key, whoever runs the round (several
workers at once included). The round itself is services/dunning.py."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, delete, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.config import Settings
from domain.model.access import SYSTEM, Actor
from domain.model.dunning import LateFee, is_collectable, late_fees
from domain.model.entities import Invoice, LateFeeCharge, Reminder, Transaction
from domain.model.enums import EventKind, InvoiceStatus, TransactionKind
from domain.model.money import tax_amount
from domain.model.texts import text
from domain.store import invoice_events
from domain.store.database import Database
from domain.store.locking import customer_of, lock_invoice

SENDING, SENT, FAILED = "SENDING", "SENT", "FAILED"


def collectable() -> list[ColumnElement[bool]]:
    """Open with something due, not a credit note (model/dunning.py `is_collectable`, in
    SQL): the leading columns of ix_invoices_collect and ix_invoices_open_created. `void =
    false`, not `void IS false`: MariaDB seeks an index on an equality only."""
    return [
        Invoice.status == InvoiceStatus.UNPAID,
        Invoice.void == false(),
        Invoice.total > 0,
        Invoice.total > Invoice.amount_paid,
    ]


async def announce_overdue(db: Database, invoice: Invoice, actor: Actor) -> bool:
    """Record once per due date that the invoice is overdue (invoice.overdue); False when
    that was done already, or the invoice changed meanwhile."""
    async with db.transaction() as session:
        changed = cast(
            CursorResult[Any],
            await session.execute(
                update(Invoice)
                .where(
                    Invoice.id == invoice.id,
                    *collectable(),
                    Invoice.next_due_date == invoice.next_due_date,
                    or_(
                        Invoice.overdue_announced_for.is_(None),
                        Invoice.overdue_announced_for != invoice.next_due_date,
                    ),
                )
                .values(overdue_announced_for=invoice.next_due_date)
                .execution_options(synchronize_session=False)
            ),
        )
        if changed.rowcount != 1:
            return False
        invoice_events.record(
            session,
            invoice.id,
            EventKind.OVERDUE,
            actor,
            f"fell due on {invoice.next_due_date.isoformat()}, not paid",
        )
    return True


async def _fee_months(session: AsyncSession, invoice_id: int, falls_due: date) -> set[int]:
    rows = await session.execute(
        select(LateFeeCharge.month).where(
            LateFeeCharge.invoice_id == invoice_id, LateFeeCharge.falls_due == falls_due
        )
    )
    return set(rows.scalars())


async def book_fees(
    db: Database, settings: Settings, invoice_id: int, months: int, actor: Actor
) -> list[LateFee]:
    """Book the fees of months 1..`months` not booked yet, each as an unbilled charge of
    the customer; none when the invoice was paid or voided meanwhile."""
    terms = settings.dunning
    try:
        async with db.transaction() as session:
            invoice = await lock_invoice(session, SYSTEM, invoice_id)
            if not is_collectable(invoice):
                return []
            falls_due = invoice.next_due_date
            booked = await _fee_months(session, invoice.id, falls_due)
            still_due = invoice.total - invoice.amount_paid
            wanted = [month for month in range(1, months + 1) if month not in booked]
            # In the invoice's currency, which is its customer's (fixed once invoiced).
            currency = invoice.currency
            fees = late_fees(still_due, terms.late_fee_percent_per_month, wanted, currency)
            customer = await customer_of(session, invoice)
            now = db.now()
            rate = terms.late_fee_tax_percentage
            for fee in fees:
                charge = Transaction(
                    kind=TransactionKind.CHARGE,
                    customer_id=invoice.customer_id,
                    title=text(
                        customer.language, "late_fee_title", number=invoice.number, month=fee.month
                    ),
                    description=(
                        f"{terms.late_fee_percent_per_month.normalize():f}% of {still_due} "
                        f"still due on {invoice.number}"
                    ),
                    created_at=now,
                    retail_cost=fee.amount,
                    tax_percentage=rate,
                    tax_amount=tax_amount(fee.amount, rate, currency),
                    tax_exemption_reason=terms.late_fee_exemption_reason if rate == 0 else None,
                )
                session.add(charge)
                await session.flush()
                session.add(
                    LateFeeCharge(
                        invoice_id=invoice.id,
                        falls_due=falls_due,
                        month=fee.month,
                        amount=fee.amount,
                        transaction_id=charge.id,
                        booked_at=now,
                    )
                )
                invoice_events.record(
                    session,
                    invoice.id,
                    EventKind.LATE_FEE,
                    actor,
                    f"month {fee.month}: {fee.amount} booked as charge {charge.id}",
                )
            await session.flush()
    except IntegrityError:
        return []  # another round booked them first
    return fees


async def drop_unbilled_fees(session: AsyncSession, invoice_id: int) -> int:
    """A voided invoice's late fees not billed yet are deleted (in the caller's unit of
    work, the invoice locked); those billed stay on the invoices that billed them."""
    rows = await session.execute(
        select(LateFeeCharge.id, Transaction.id)
        .join(Transaction, Transaction.id == LateFeeCharge.transaction_id)
        .where(LateFeeCharge.invoice_id == invoice_id, Transaction.invoice_id.is_(None))
    )
    found = rows.all()
    if not found:
        return 0
    await session.execute(
        update(LateFeeCharge)
        .where(LateFeeCharge.id.in_([fee for fee, _ in found]))
        .values(transaction_id=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(Transaction)
        .where(Transaction.id.in_([charge for _, charge in found]))
        .execution_options(synchronize_session=False)
    )
    return len(found)


@dataclass(frozen=True)
class Done:
    """What earlier rounds did for a page of invoices (for the date each falls due now):
    the months of fees booked, and the latest reminder step sent or being sent."""

    fees: dict[int, set[int]]
    reminded: dict[int, int]


async def done_for(db: Database, invoices: Sequence[Invoice]) -> Done:
    """Two queries for a page, so a round passes what is done without a query each."""
    due = {invoice.id: invoice.next_due_date for invoice in invoices}
    fees: dict[int, set[int]] = defaultdict(set)
    reminded: dict[int, int] = {}
    async with db.read() as session:
        booked = await session.execute(
            select(LateFeeCharge.invoice_id, LateFeeCharge.falls_due, LateFeeCharge.month).where(
                LateFeeCharge.invoice_id.in_(due)
            )
        )
        for invoice_id, falls_due, month in booked:
            if due[invoice_id] == falls_due:
                fees[invoice_id].add(month)
        sent = await session.execute(
            select(Reminder.invoice_id, Reminder.falls_due, func.max(Reminder.step))
            .where(Reminder.invoice_id.in_(due), Reminder.state.in_([SENDING, SENT]))
            .group_by(Reminder.invoice_id, Reminder.falls_due)
        )
        for invoice_id, falls_due, step in sent:
            if due[invoice_id] == falls_due:
                reminded[invoice_id] = int(step)
    return Done(dict(fees), reminded)


async def _reminded(session: AsyncSession, invoice_id: int, falls_due: date, step: int) -> bool:
    """Whether this step, or a later one, of this due date was sent or is being sent."""
    found = await session.execute(
        select(Reminder.id).where(
            Reminder.invoice_id == invoice_id,
            Reminder.falls_due == falls_due,
            Reminder.step >= step,
            Reminder.state.in_([SENDING, SENT]),
        )
    )
    return found.first() is not None


async def claim_reminder(
    db: Database, invoice_id: int, falls_due: date, step: int, recipients: str
) -> int | None:
    """The claim of a reminder to send, or None: sent or being sent already (by another
    round), or the invoice paid, voided or rescheduled meanwhile. A step that FAILED is
    claimed again."""
    try:
        async with db.transaction() as session:
            invoice = await lock_invoice(session, SYSTEM, invoice_id)
            if not is_collectable(invoice) or invoice.next_due_date != falls_due:
                return None
            if await _reminded(session, invoice_id, falls_due, step):
                return None
            now = db.now()
            failed = (
                await session.execute(
                    select(Reminder).where(
                        Reminder.invoice_id == invoice_id,
                        Reminder.falls_due == falls_due,
                        Reminder.step == step,
                    )
                )
            ).scalar_one_or_none()
            if failed is not None:
                failed.state, failed.claimed_at, failed.recipients = SENDING, now, recipients
                return failed.id
            claim = Reminder(
                invoice_id=invoice_id,
                falls_due=falls_due,
                step=step,
                state=SENDING,
                recipients=recipients,
                message="",
                claimed_at=now,
            )
            session.add(claim)
            await session.flush()
            return claim.id
    except IntegrityError:
        return None


async def settle_reminder(
    db: Database, claim_id: int, *, sent: bool, message: str, actor: Actor
) -> None:
    async with db.transaction() as session:
        claim = await session.get(Reminder, claim_id)
        assert claim is not None  # claims are never deleted
        claim.state = SENT if sent else FAILED
        claim.settled_at = db.now()
        claim.message = message
        kind = EventKind.REMINDED if sent else EventKind.EMAIL_FAILED
        invoice_events.record(session, claim.invoice_id, kind, actor, message)
