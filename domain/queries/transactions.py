"""transaction, transactions, Customer.unbilledTransactions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, or_, select

from domain.errors import InvalidInput
from domain.model import validation
from domain.model.access import Viewer
from domain.model.entities import Transaction
from domain.model.paging import Page, PageRequest
from domain.model.periods import day_range
from domain.store.charges import unbilled_charges_query
from domain.store.cursors import Keyset
from domain.store.database import Database
from domain.store.pagination import fetch_page
from domain.store.text_search import contains

NEWEST_FIRST = Keyset(
    "transactions.created", Transaction.created_at, Transaction.id, True, datetime.fromisoformat
)


@dataclass(frozen=True)
class TransactionFilter:
    customer_id: int | None = None
    billed: bool | None = None
    start_date: date | None = None
    end_date: date | None = None
    search: str | None = None


async def get_transaction(db: Database, viewer: Viewer, transaction_id: int) -> Transaction | None:
    async with db.read() as session:
        row = await session.get(Transaction, transaction_id)
    if row is None or not viewer.can_see_customer(row.customer_id):
        return None
    return row


def _filtered(viewer: Viewer, zone: ZoneInfo, criteria: TransactionFilter) -> Select[Transaction]:
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
    text = validation.search_term(criteria.search)
    if text:
        matches: list[ColumnElement[bool]] = [
            contains(Transaction.title, text),
            contains(Transaction.description, text),
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
        return await fetch_page(session, query, request, NEWEST_FIRST)


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
        query = unbilled_charges_query(customer_id, zone, start, end)
        return list((await session.execute(query)).scalars())
