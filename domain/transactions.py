"""Transactions: the charges that invoices bill, and the payments and refunds that settle them.

Only CHARGE transactions are created here; PAYMENT and REFUND transactions come from the
payment flows. A billed transaction is frozen: void its invoice first (Workflow 7).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain import validation
from domain.access import SYSTEM, Viewer, require_staff
from domain.db import Database, utcnow
from domain.errors import DomainError, ErrorCode, InvalidInput, NotFound
from domain.models import Customer, Product, Transaction, TransactionKind
from domain.money import ZERO, tax_amount
from domain.pagination import Page, PageRequest, contains_pattern, fetch_page
from domain.periods import day_range


@dataclass(frozen=True)
class TransactionData:
    customer_id: int
    title: str
    retail_cost: Decimal
    description: str | None = None
    tax_percentage: Decimal | None = None
    product_id: int | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class TransactionChanges:
    title: str | None = None
    description: str | None = None
    retail_cost: Decimal | None = None
    tax_percentage: Decimal | None = None


@dataclass(frozen=True)
class TransactionFilter:
    customer_id: int | None = None
    billed: bool | None = None
    start_date: date | None = None
    end_date: date | None = None
    search: str | None = None


def _as_utc(moment: datetime) -> datetime:
    # A time sent without an offset is taken as UTC, the API's stated zone.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def create_transaction(db: Database, viewer: Viewer, data: TransactionData) -> Transaction:
    require_staff(viewer)
    async with db.transaction() as session:
        if await session.get(Customer, data.customer_id) is None:
            raise NotFound("Customer", data.customer_id, "customer_id")
        product = None
        if data.product_id is not None:
            product = await session.get(Product, data.product_id)
            if product is None:
                raise NotFound("Product", data.product_id, "product_id")
        title = validation.required_text("title", data.title, 200)
        cost = validation.amount("retail_cost", data.retail_cost)
        if data.tax_percentage is not None:
            percent = validation.percentage("tax_percentage", data.tax_percentage)
        else:
            percent = product.tax_percentage if product else ZERO
        row = Transaction(
            kind=TransactionKind.CHARGE,
            customer_id=data.customer_id,
            product_id=data.product_id,
            title=title,
            description=validation.bounded_text(
                "description", (data.description or "").strip(), 5000
            ),
            created_at=_as_utc(data.created_at) if data.created_at else utcnow(),
            retail_cost=cost,
            tax_percentage=percent,
            tax_amount=tax_amount(cost, percent),
        )
        session.add(row)
    return row


async def _unbilled_for_change(session: AsyncSession, transaction_id: int) -> Transaction:
    row = (
        await session.execute(
            select(Transaction).where(Transaction.id == transaction_id).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("Transaction", transaction_id, "id")
    if row.invoice_id is not None:
        raise DomainError(
            ErrorCode.TRANSACTION_BILLED,
            f"Transaction {transaction_id} is billed on invoice {row.invoice_id}; "
            "void that invoice first to change it.",
            "id",
        )
    if row.kind is not TransactionKind.CHARGE:
        raise InvalidInput("id", "Payments and refunds are changed only by the payment flows.")
    return row


async def update_transaction(
    db: Database, viewer: Viewer, transaction_id: int, changes: TransactionChanges
) -> Transaction:
    require_staff(viewer)
    async with db.transaction() as session:
        row = await _unbilled_for_change(session, transaction_id)
        if changes.title is not None:
            row.title = validation.required_text("title", changes.title, 200)
        if changes.description is not None:
            row.description = validation.bounded_text(
                "description", changes.description.strip(), 5000
            )
        if changes.retail_cost is not None:
            row.retail_cost = validation.amount("retail_cost", changes.retail_cost)
        if changes.tax_percentage is not None:
            row.tax_percentage = validation.percentage("tax_percentage", changes.tax_percentage)
        row.tax_amount = tax_amount(row.retail_cost, row.tax_percentage)
    return row


async def delete_transaction(db: Database, viewer: Viewer, transaction_id: int) -> int:
    require_staff(viewer)
    async with db.transaction() as session:
        row = await _unbilled_for_change(session, transaction_id)
        await session.delete(row)
    return transaction_id


async def get_transaction(db: Database, viewer: Viewer, transaction_id: int) -> Transaction | None:
    async with db.read() as session:
        row = await session.get(Transaction, transaction_id)
    if row is None or not viewer.can_see_customer(row.customer_id):
        return None
    return row


def _filtered(
    viewer: Viewer, zone: ZoneInfo, criteria: TransactionFilter
) -> Select[tuple[Transaction]]:
    query = select(Transaction)
    if viewer.customer_scope is not None:
        query = query.where(Transaction.customer_id == viewer.customer_scope)
    if criteria.customer_id is not None:
        query = query.where(Transaction.customer_id == criteria.customer_id)
    if criteria.billed is True:
        query = query.where(Transaction.invoice_id.is_not(None))
    elif criteria.billed is False:
        query = query.where(Transaction.invoice_id.is_(None))
    lower, upper = day_range(criteria.start_date, criteria.end_date, zone)
    if lower is not None:
        query = query.where(Transaction.created_at >= lower)
    if upper is not None:
        query = query.where(Transaction.created_at < upper)
    if criteria.search and criteria.search.strip():
        text = criteria.search.strip()
        pattern = contains_pattern(text)
        matches = [
            Transaction.title.ilike(pattern, escape="\\"),
            Transaction.description.ilike(pattern, escape="\\"),
        ]
        if text.isascii() and text.isdigit() and len(text) < 18:
            matches.append(Transaction.id == int(text))
        query = query.where(or_(*matches))
    return query


async def list_transactions(
    db: Database, viewer: Viewer, zone: ZoneInfo, criteria: TransactionFilter, request: PageRequest
) -> Page[Transaction]:
    if criteria.start_date and criteria.end_date and criteria.start_date > criteria.end_date:
        raise InvalidInput("start_date", "startDate must not be after endDate.")
    query = _filtered(viewer, zone, criteria).order_by(
        Transaction.created_at.desc(), Transaction.id.desc()
    )
    async with db.read() as session:
        return await fetch_page(session, query, request)


def unbilled_charges_query(
    customer_id: int, zone: ZoneInfo, start: date | None, end: date | None
) -> Select[tuple[Transaction]]:
    """The customer's unbilled charges created in [start, end] (whole days), oldest first."""
    query = _filtered(
        SYSTEM,
        zone,
        TransactionFilter(customer_id=customer_id, billed=False, start_date=start, end_date=end),
    ).where(Transaction.kind == TransactionKind.CHARGE)
    return query.order_by(Transaction.created_at, Transaction.id)


async def unbilled_charges(
    db: Database,
    viewer: Viewer,
    zone: ZoneInfo,
    customer_id: int,
    start: date | None,
    end: date | None,
) -> list[Transaction]:
    if not viewer.can_see_customer(customer_id):
        return []
    async with db.read() as session:
        return list(
            (await session.execute(unbilled_charges_query(customer_id, zone, start, end))).scalars()
        )


async def transactions_by_id(db: Database, ids: Iterable[int]) -> dict[int, Transaction]:
    async with db.read() as session:
        rows = await session.execute(select(Transaction).where(Transaction.id.in_(set(ids))))
        return {row.id: row for row in rows.scalars()}
