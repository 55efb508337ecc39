"""invoice, invoices: one invoice, or a filtered, searched and sorted page of them."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, literal, not_, select

from domain.model import validation
from domain.model.access import Viewer
from domain.model.entities import Invoice, InvoiceTotals
from domain.model.enums import InvoiceStatus
from domain.model.paging import Page, PageRequest
from domain.queries import invoice_search
from domain.queries.receivables import overdue_condition, overdue_count
from domain.store.cursors import Keyset
from domain.store.database import Database
from domain.store.invoice_totals import ALL_CUSTOMERS


class VoidFilter(enum.StrEnum):
    ALL = "ALL"
    VOID = "VOID"
    NOT_VOID = "NOT_VOID"


class PaymentFilter(enum.StrEnum):
    ALL = "ALL"
    PAID = "PAID"
    UNPAID = "UNPAID"


class SortField(enum.StrEnum):
    ID = "ID"
    TITLE = "TITLE"
    DUE_DATE = "DUE_DATE"
    CREATED = "CREATED"
    AMOUNT = "AMOUNT"
    STATUS = "STATUS"


@dataclass(frozen=True)
class InvoiceFilter:
    customer_id: int | None = None
    search: str | None = None
    void: VoidFilter = VoidFilter.ALL
    payment: PaymentFilter = PaymentFilter.ALL
    status: InvoiceStatus | None = None
    # True: only overdue on `today` (in business.timezone); False: none of them.
    overdue: bool | None = None
    today: date | None = None
    # ISO 4217: only invoices in that currency.
    currency: str | None = None


@dataclass(frozen=True)
class InvoiceSort:
    field: SortField = SortField.CREATED
    descending: bool = True


_SORT_COLUMNS: dict[SortField, Any] = {
    SortField.ID: Invoice.id,
    SortField.TITLE: Invoice.title,
    SortField.DUE_DATE: Invoice.due_date,
    SortField.CREATED: Invoice.created_at,
    SortField.AMOUNT: Invoice.total,
    # Alphabetical happens to be the order the list wants: PAID, REFUNDED, UNPAID.
    SortField.STATUS: Invoice.status,
}
# A sort value back from a cursor's text.
_PARSE: dict[SortField, Callable[[str], Any]] = {
    SortField.ID: int,
    SortField.TITLE: str,
    SortField.DUE_DATE: date.fromisoformat,
    SortField.CREATED: datetime.fromisoformat,
    SortField.AMOUNT: Decimal,
    SortField.STATUS: InvoiceStatus,
}


async def get_invoice(db: Database, viewer: Viewer, invoice_id: int) -> Invoice | None:
    async with db.read() as session:
        invoice = await session.get(Invoice, invoice_id)
    if invoice is None or not viewer.can_see_customer(invoice.customer_id):
        return None
    return invoice


def _state_conditions(criteria: InvoiceFilter, void: Any, status: Any) -> list[ColumnElement[bool]]:
    """The void, payment and status filters, for the invoices or for their summary."""
    conditions: list[ColumnElement[bool]] = []
    if criteria.void is VoidFilter.VOID:
        conditions.append(void.is_(True))
    elif criteria.void is VoidFilter.NOT_VOID:
        conditions.append(void.is_(False))
    if criteria.payment is PaymentFilter.PAID:
        conditions.append(status.in_([InvoiceStatus.PAID, InvoiceStatus.REFUNDED]))
    elif criteria.payment is PaymentFilter.UNPAID:
        conditions.append(status == InvoiceStatus.UNPAID)
    if criteria.status is not None:
        conditions.append(status == criteria.status)
    return conditions


def _scope_and_state(viewer: Viewer, criteria: InvoiceFilter) -> list[ColumnElement[bool]]:
    """Every condition of the list but the text search."""
    conditions: list[ColumnElement[bool]] = []
    scope = viewer.customer_scope
    if scope is not None:
        conditions.append(Invoice.customer_id == scope)
    if criteria.customer_id is not None:
        conditions.append(Invoice.customer_id == criteria.customer_id)
    if criteria.currency is not None:
        conditions.append(Invoice.currency == criteria.currency)
    if criteria.overdue is not None:
        if criteria.today is None:
            raise ValueError("the overdue filter needs the day it is asked on")
        overdue = overdue_condition(criteria.today)
        conditions.append(overdue if criteria.overdue else not_(overdue))
    return conditions + _state_conditions(criteria, Invoice.void, Invoice.status)


# Above this many search hits, the page walks the sort column's index testing each invoice
# (25 hits come quickly); below it, the hits are read and sorted (the walk could pass half
# a million invoices first when the hits are few or all old).
DENSE_SEARCH_HITS = 20_000

_SORT_INDEXES = {
    SortField.ID: "PRIMARY",
    SortField.TITLE: "ix_invoices_title_id",
    SortField.DUE_DATE: "ix_invoices_due_date_id",
    SortField.CREATED: "ix_invoices_created_at",
    SortField.AMOUNT: "ix_invoices_total_id",
    SortField.STATUS: "ix_invoices_status_id",
}


async def list_invoices(
    db: Database, viewer: Viewer, criteria: InvoiceFilter, sort: InvoiceSort, request: PageRequest
) -> Page[Invoice]:
    """One page, read in one statement: the page's ids first (an index walk that stops
    after one page), those rows joined after, and the count beside them. Joining first
    and sorting after would read every matching row."""
    column = _SORT_COLUMNS[sort.field]
    order = (
        (column.desc(), Invoice.id.desc()) if sort.descending else (column.asc(), Invoice.id.asc())
    )
    filters = _scope_and_state(viewer, criteria)
    keyset = Keyset(
        f"invoices.{sort.field.value}", column, Invoice.id, sort.descending, _PARSE[sort.field]
    )
    start = [keyset.after(request.after)] if request.after is not None else []
    term = validation.search_term(criteria.search)
    async with db.read() as session:
        if term:
            found = await invoice_search.match(
                session,
                term,
                by_customer_name=viewer.customer_scope is None and criteria.customer_id is None,
            )
            # The count comes first here: it decides how the page is read.
            count_query = found.count_query(filters)
            total: int | None = int((await session.execute(count_query)).scalar_one())
            ids_query = _search_page(found, filters, sort, total or 0, db.dialect)
        else:
            count_query = _count_from_summary(viewer, criteria)
            total = None
            ids_query = select(Invoice.id).where(*filters)
        # One row more than the page: whether another page follows, without counting.
        page_ids = (
            ids_query.where(*start)
            .order_by(*order)
            .limit(request.per_page + 1)
            .offset(request.offset)
            .subquery("page_ids")
        )
        page_query = (
            select(Invoice, count_query.scalar_subquery() if total is None else literal(total))
            .select_from(page_ids)
            .join(Invoice, Invoice.id == page_ids.c.id)
            .order_by(*order)
            .prefix_with("STRAIGHT_JOIN", dialect="mysql")
        )
        rows = (await session.execute(page_query)).all()
        if rows:
            total = int(rows[0][1])
        elif total is None:  # past the last page: no row carried the count
            total = int((await session.execute(count_query)).scalar_one())
    more = len(rows) > request.per_page
    items = [row[0] for row in rows[: request.per_page]]
    end = keyset.cursor(items[-1]) if items else None
    return Page(
        items=items,
        total_count=total,
        page=request.page,
        per_page=request.per_page,
        end_cursor=end,
        more=more,
    )


def _search_page(
    found: invoice_search.SearchMatch,
    filters: list[Any],
    sort: InvoiceSort,
    total: int,
    dialect: str,
) -> Select[int]:
    """The ids query of a search's page, planned by how many invoices it matched."""
    if dialect != "mysql":
        return select(Invoice.id).where(found.condition, *filters)
    if total > DENSE_SEARCH_HITS:
        return (
            select(Invoice.id)
            .where(found.condition, *filters)
            .with_hint(Invoice, f"FORCE INDEX ({_SORT_INDEXES[sort.field]})", "mysql")
        )
    # Start from the (few) hits: left to itself, MariaDB may walk the whole sort index
    # probing the hits for each of a million invoices.
    hits = found.hits(filters)
    return (
        select(Invoice.id)
        .select_from(hits)
        .join(Invoice, Invoice.id == hits.c.id)
        .prefix_with("STRAIGHT_JOIN", dialect="mysql")
    )


def _count_from_summary(viewer: Viewer, criteria: InvoiceFilter) -> Select[int]:
    """The exact count from the maintained summaries, which have a row per customer, month
    and state (invoice_totals) and per customer and due day (receivable_totals): every
    filter but a text search maps onto them."""
    if criteria.overdue is None:
        return _count_by_state(viewer, criteria)
    customers = {c for c in (viewer.customer_scope, criteria.customer_id) if c is not None}
    assert criteria.today is not None  # _scope_and_state refused it without
    late: Select[Any] = overdue_count(
        next(iter(customers), None), criteria.today, criteria.currency
    )
    # An overdue invoice is UNPAID and not void: a filter for anything else has none.
    excluded = (
        len(customers) > 1
        or criteria.void is VoidFilter.VOID
        or criteria.payment is PaymentFilter.PAID
        or criteria.status not in (None, InvoiceStatus.UNPAID)
    )
    if criteria.overdue:
        return select(literal(0)) if excluded else late
    everything = _count_by_state(viewer, replace(criteria, overdue=None))
    if excluded:
        return everything
    return select(everything.scalar_subquery() - late.scalar_subquery())


def _count_by_state(viewer: Viewer, criteria: InvoiceFilter) -> Select[int]:
    query = select(func.coalesce(func.sum(InvoiceTotals.invoice_count), 0))
    customers = {c for c in (viewer.customer_scope, criteria.customer_id) if c is not None}
    query = query.where(
        InvoiceTotals.customer_id.in_(customers)
        if customers
        else InvoiceTotals.customer_id == ALL_CUSTOMERS
    )
    if len(customers) > 1:
        query = query.where(false())  # a customer asking for another's invoices: none
    if criteria.currency is not None:
        query = query.where(InvoiceTotals.currency == criteria.currency)
    return query.where(*_state_conditions(criteria, InvoiceTotals.void, InvoiceTotals.status))
