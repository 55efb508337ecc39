"""Billing: previewing and generating invoices from unbilled charges, one customer or many.

Concurrency: generating locks the customer's row first, so two generates for one customer
queue; the charges are then linked with a conditional UPDATE (`... AND invoice_id IS NULL`)
whose row count must match, so a charge can never end up on two invoices even if the lock
were bypassed. On SQLite, writers are serialized by BEGIN IMMEDIATE.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain import idempotency, invoice_events, invoice_totals
from domain.access import Viewer, require_staff
from domain.config import Settings
from domain.db import Database, utcnow
from domain.errors import DomainError, ErrorCode, InvalidInput, NotFound
from domain.invoice_events import EventKind
from domain.invoice_totals import month_key
from domain.models import Customer, Invoice, InvoiceLine, Transaction, TransactionKind
from domain.money import ZERO
from domain.periods import day_range, today
from domain.texts import text
from domain.transactions import unbilled_charges_query
from domain.validation import required_text

log = logging.getLogger("invoicing.billing")

DEFAULT_PERIOD_DAYS = 14


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def __str__(self) -> str:
        return f"{self.start.isoformat()} - {self.end.isoformat()}"


def default_title(language: str, period: Period) -> str:
    return text(language, "invoice_title", period=period)


def resolve_period(settings: Settings, start: date | None, end: date | None) -> Period:
    """The billing period with the specification's defaults: the last 14 days to today."""
    now = today(settings.business.zone)
    period = Period(start or now - timedelta(days=DEFAULT_PERIOD_DAYS), end or now)
    if period.start > period.end:
        raise InvalidInput("start_date", "The start date must not be after the end date.")
    return period


@dataclass(frozen=True)
class PreviewLine:
    transaction: Transaction
    included: bool


@dataclass(frozen=True)
class Preview:
    period: Period
    lines: list[PreviewLine]

    @property
    def included(self) -> list[Transaction]:
        return [line.transaction for line in self.lines if line.included]

    @property
    def subtotal(self) -> Decimal:
        return sum((t.retail_cost for t in self.included), ZERO)

    @property
    def tax(self) -> Decimal:
        return sum((t.tax_amount for t in self.included), ZERO)

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax


async def preview_invoice(
    db: Database,
    settings: Settings,
    viewer: Viewer,
    customer_id: int,
    start: date | None = None,
    end: date | None = None,
    excluded_ids: Sequence[int] = (),
) -> Preview:
    """Exactly what generate_invoice would bill with the same inputs; changes nothing."""
    period = resolve_period(settings, start, end)
    if not viewer.can_see_customer(customer_id):
        raise NotFound("Customer", customer_id, "customer_id")
    excluded = set(excluded_ids)
    async with db.read() as session:
        if await session.get(Customer, customer_id) is None:
            raise NotFound("Customer", customer_id, "customer_id")
        query = unbilled_charges_query(
            customer_id, settings.business.zone, period.start, period.end
        )
        rows = (await session.execute(query)).scalars().all()
    return Preview(period, [PreviewLine(row, row.id not in excluded) for row in rows])


@dataclass(frozen=True)
class GenerateRequest:
    customer_id: int
    title: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    due_date: date | None = None
    transaction_ids: Sequence[int] | None = None
    excluded_transaction_ids: Sequence[int] = ()
    idempotency_key: str | None = None


async def generate_invoice(
    db: Database,
    settings: Settings,
    viewer: Viewer,
    request: GenerateRequest,
    *,
    issued_at: datetime | None = None,
) -> Invoice:
    """Bill the customer's unbilled charges in the period as one invoice, in one transaction.

    `issued_at` back-dates the invoice; only demo data uses it.
    """
    require_staff(viewer)
    key = idempotency.IdempotencyKey.of(
        "generateInvoice", request.idempotency_key, {**request.__dict__, "idempotency_key": None}
    )
    if key is not None and (earlier := await idempotency.earlier_result(db, key)) is not None:
        return await _load_invoice(db, earlier)
    try:
        async with db.transaction() as session:
            claim = await idempotency.record(session, key) if key else None
            invoice = await _generate(
                session, settings, request, issued_at or utcnow(), viewer.name
            )
            if claim is not None:
                claim.result_id = invoice.id
    except IntegrityError:
        # Another request with the same key committed first: answer what it answered.
        if key is None or (earlier := await idempotency.earlier_result(db, key)) is None:
            raise
        return await _load_invoice(db, earlier)
    return invoice


async def _load_invoice(db: Database, invoice_id: int) -> Invoice:
    async with db.read() as session:
        invoice = await session.get(Invoice, invoice_id)
    assert invoice is not None  # invoices are never deleted
    return invoice


async def _generate(
    session: AsyncSession,
    settings: Settings,
    request: GenerateRequest,
    issued_at: datetime,
    actor: str,
) -> Invoice:
    period = resolve_period(settings, request.start_date, request.end_date)
    due = request.due_date or today(settings.business.zone)
    if due < period.start:
        raise InvalidInput("due_date", "The due date must not be before the start date.")
    customer = (
        await session.execute(
            select(Customer).where(Customer.id == request.customer_id).with_for_update()
        )
    ).scalar_one_or_none()
    if customer is None:
        raise NotFound("Customer", request.customer_id, "customer_id")
    title = (
        required_text("title", request.title, 255)
        if request.title is not None
        else default_title(customer.language, period)
    )
    charges = await _charges_to_bill(session, settings, customer.id, period, request)
    if not charges:
        raise DomainError(
            ErrorCode.NO_TRANSACTIONS,
            f"Customer {customer.id} has no unbilled transactions from {period.start} to {period.end} to bill.",
        )

    invoice = Invoice(
        customer_id=customer.id,
        title=title,
        start_date=period.start,
        end_date=period.end,
        due_date=due,
        created_at=issued_at,
        subtotal=sum((c.retail_cost for c in charges), ZERO),
        tax=sum((c.tax_amount for c in charges), ZERO),
        created_month=month_key(issued_at, settings.business.zone),
        line_count=len(charges),
    )
    invoice.total = invoice.subtotal + invoice.tax
    session.add(invoice)
    await session.flush()
    year = issued_at.astimezone(settings.business.zone).year
    invoice.number = settings.invoice.number_format.format(year=year, id=invoice.id)
    await invoice_totals.count_new(session, invoice)
    session.add_all(
        InvoiceLine(
            invoice_id=invoice.id,
            position=position,
            transaction_id=charge.id,
            created_at=charge.created_at,
            title=charge.title,
            description=charge.description,
            retail_cost=charge.retail_cost,
            tax_percentage=charge.tax_percentage,
            tax_amount=charge.tax_amount,
        )
        for position, charge in enumerate(charges, start=1)
    )
    ids = [charge.id for charge in charges]
    linked = await session.execute(
        update(Transaction)
        .where(Transaction.id.in_(ids), Transaction.invoice_id.is_(None))
        .values(invoice_id=invoice.id)
        .execution_options(synchronize_session=False)
    )
    if linked.rowcount != len(ids):
        raise DomainError(
            ErrorCode.TRANSACTION_UNAVAILABLE,
            "Some of the transactions were billed by another invoice meanwhile; nothing was billed.",
            "transaction_ids",
        )
    invoice_events.record(
        session,
        invoice.id,
        EventKind.GENERATED,
        actor,
        f"{invoice.number}: {len(charges)} transactions from {period.start} to {period.end}, total {invoice.total}",
    )
    await session.flush()
    return invoice


async def _charges_to_bill(
    session: AsyncSession,
    settings: Settings,
    customer_id: int,
    period: Period,
    request: GenerateRequest,
) -> list[Transaction]:
    zone = settings.business.zone
    if request.transaction_ids is None:
        excluded = set(request.excluded_transaction_ids)
        rows = (
            await session.execute(
                unbilled_charges_query(customer_id, zone, period.start, period.end)
            )
        ).scalars()
        return [row for row in rows if row.id not in excluded]

    wanted = list(dict.fromkeys(request.transaction_ids))
    found = {
        row.id: row
        for row in (
            await session.execute(select(Transaction).where(Transaction.id.in_(wanted)))
        ).scalars()
    }
    lower, upper = day_range(period.start, period.end, zone)
    excluded = set(request.excluded_transaction_ids)
    chosen = []
    for transaction_id in wanted:
        row = found.get(transaction_id)
        reason = None
        if row is None or row.customer_id != customer_id:
            reason = "is not a transaction of this customer"
        elif row.kind is not TransactionKind.CHARGE:
            reason = "is not a charge"
        elif row.invoice_id is not None:
            reason = f"is already billed on invoice {row.invoice_id}"
        elif not lower <= row.created_at < upper:
            reason = f"is outside the period {period}"
        if reason:
            raise DomainError(
                ErrorCode.TRANSACTION_UNAVAILABLE,
                f"Transaction {transaction_id} {reason}.",
                "transaction_ids",
            )
        if transaction_id not in excluded:
            chosen.append(row)
    return sorted(chosen, key=lambda row: (row.created_at, row.id))


@dataclass
class BillingRun:
    invoices: list[Invoice] = field(default_factory=list)
    skipped_customer_ids: list[int] = field(default_factory=list)
    failures: list[tuple[int, DomainError]] = field(default_factory=list)


async def customers_to_bill(db: Database, settings: Settings, period: Period) -> list[int]:
    lower, upper = day_range(period.start, period.end, settings.business.zone)
    query = (
        select(Transaction.customer_id)
        .distinct()
        .where(
            Transaction.invoice_id.is_(None),
            Transaction.kind == TransactionKind.CHARGE,
            Transaction.created_at >= lower,
            Transaction.created_at < upper,
        )
        .order_by(Transaction.customer_id)
    )
    async with db.read() as session:
        return list((await session.execute(query)).scalars())


async def billing_targets(
    db: Database,
    settings: Settings,
    viewer: Viewer,
    start: date,
    end: date,
    due: date,
    customer_ids: Sequence[int] | None = None,
) -> tuple[Period, list[int]]:
    """The period a billing run bills and whom (the customers given, else every customer
    with unbilled charges in it), once it is allowed to run."""
    require_staff(viewer)
    period = resolve_period(settings, start, end)
    if due < period.start:
        raise InvalidInput("due_date", "The due date must not be before the start date.")
    targets = (
        list(dict.fromkeys(customer_ids))
        if customer_ids is not None
        else await customers_to_bill(db, settings, period)
    )
    return period, targets


async def run_billing(
    db: Database,
    settings: Settings,
    viewer: Viewer,
    start: date,
    end: date,
    due: date,
    customer_ids: Sequence[int] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> BillingRun:
    """One invoice per customer, each in its own transaction: one failure loses no other invoice."""
    period, targets = await billing_targets(db, settings, viewer, start, end, due, customer_ids)
    run = BillingRun()
    for customer_id in targets:
        request = GenerateRequest(
            customer_id=customer_id, start_date=period.start, end_date=period.end, due_date=due
        )
        try:
            run.invoices.append(await generate_invoice(db, settings, viewer, request))
        except DomainError as error:
            if error.code is ErrorCode.NO_TRANSACTIONS:
                run.skipped_customer_ids.append(customer_id)
            else:
                run.failures.append((customer_id, error))
        except Exception:  # a database fault for one customer must not stop the run
            log.exception("billing customer %s failed", customer_id)
            run.failures.append(
                (
                    customer_id,
                    DomainError(
                        ErrorCode.CONFLICT,
                        f"Customer {customer_id} could not be billed; try again.",
                    ),
                )
            )
        if on_progress is not None:
            on_progress(customer_id)
    return run
