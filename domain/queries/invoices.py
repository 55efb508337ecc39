"""invoice, invoices: one invoice, or a filtered, searched and sorted page of them."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    false,
    func,
    literal,
    not_,
    select,
    true,
    union_all,
)
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import validation
from domain.model.access import SYSTEM, Viewer
from domain.model.entities import Invoice, InvoiceTotals
from domain.model.enums import InvoiceStatus, PaymentMethodKind
from domain.model.paging import Page, PageRequest
from domain.model.periods import month_begins, next_month
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


class InvoiceRow(NamedTuple):
    """A list page's invoice: its row of the invoices table, by the names Invoice gives
    its columns (what the rules read of an invoice: model/invoice_rules.py InvoiceFacts),
    without an ORM object: building 25 of those, and the Session they need, was 0.4-0.5 ms
    of a page's CPU. A tuple's fields, not SQLAlchemy's Row: a Row's columns read by name
    cost 0.3 µs each, and answering a page reads some 30 of each invoice's (0.25 ms a
    page, 0.03 ms from a tuple)."""

    id: int
    number: str | None
    customer_id: int
    title: str
    start_date: date | None
    end_date: date | None
    due_date: date
    created_at: datetime
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    currency: str
    status: InvoiceStatus
    void: bool
    voided_at: datetime | None
    paid_at: datetime | None
    payment_method: PaymentMethodKind | None
    payment_reference: str | None
    refund_reference: str | None
    line_count: int
    refunded_amount: Decimal
    amount_paid: Decimal
    next_due_date: date
    overdue_announced_for: date | None
    number_series: str | None
    number_seq: int | None
    created_month: int


_INVOICE_COLUMNS = tuple(Invoice.__table__.c[name] for name in InvoiceRow._fields)


async def get_invoice(db: Database, viewer: Viewer, invoice_id: int) -> Invoice | None:
    async with db.read() as session:
        invoice = await session.get(Invoice, invoice_id)
    if invoice is None or not viewer.can_see_customer(invoice.customer_id):
        return None
    return invoice


def _state_conditions(criteria: InvoiceFilter, void: Any, status: Any) -> list[ColumnElement[bool]]:
    """The void, payment and status filters, for the invoices or for their summary."""
    conditions: list[ColumnElement[bool]] = []
    # Equalities, not `IS true`: MariaDB seeks an index (ix_invoices_open_created) on those.
    if criteria.void is VoidFilter.VOID:
        conditions.append(void == true())
    elif criteria.void is VoidFilter.NOT_VOID:
        conditions.append(void == false())
    if criteria.payment is PaymentFilter.PAID:
        conditions.append(status.in_([InvoiceStatus.PAID, InvoiceStatus.REFUNDED]))
    elif criteria.payment is PaymentFilter.UNPAID:
        conditions.append(status == InvoiceStatus.UNPAID)
    if criteria.status is not None:
        conditions.append(status == criteria.status)
    return conditions


def _customers(viewer: Viewer, criteria: InvoiceFilter) -> set[int]:
    """The customers the page is limited to, by the viewer's scope and by the filter: none
    (all of them), one, or two (a customer's token asking for another's invoices: none)."""
    return {c for c in (viewer.customer_scope, criteria.customer_id) if c is not None}


def _day(criteria: InvoiceFilter) -> date:
    """The day the overdue filter is asked on (it needs one)."""
    if criteria.today is None:
        raise ValueError("the overdue filter needs the day it is asked on")
    return criteria.today


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
        overdue = overdue_condition(_day(criteria))
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


def _keyset(sort: InvoiceSort) -> Keyset:
    column = _SORT_COLUMNS[sort.field]
    return Keyset(
        f"invoices.{sort.field.value}", column, Invoice.id, sort.descending, _PARSE[sort.field]
    )


def _order(sort: InvoiceSort) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    column = _SORT_COLUMNS[sort.field]
    if sort.descending:
        return column.desc(), Invoice.id.desc()
    return column.asc(), Invoice.id.asc()


def _page_of(ids_query: Select[Any], count: ColumnElement[Any], sort: InvoiceSort) -> Select[Any]:
    """The page's rows (of ids_query, already limited) with the count after their columns:
    the page's ids first (an index walk that stops after one page), those rows joined after.
    Joining first and sorting after would read every matching row."""
    page_ids = ids_query.subquery("page_ids")
    return (
        select(*_INVOICE_COLUMNS, count)
        .select_from(page_ids)
        .join(Invoice, Invoice.id == page_ids.c.id)
        .order_by(*_order(sort))
        .prefix_with("STRAIGHT_JOIN", dialect="mysql")
    )


@dataclass(frozen=True)
class _Browse:
    """What a list page without a text search looks like, its values aside: the statements
    are built (and SQLAlchemy's cache keys made) once per shape, and each page binds its own
    customer, currency, day, cursor, limit and offset. Building them took a quarter of the
    page's time in the database layer."""

    customer: bool
    currency: bool
    overdue: bool | None
    void: VoidFilter
    payment: PaymentFilter
    status: InvoiceStatus | None
    sort: InvoiceSort
    after: bool
    # The page's walk starts at a month's start (_months_before), not at the first invoice;
    # its count is known then (the months' counts add up to it), and bound.
    from_month: bool = False
    # ... and walks its month from the other end, back to the page (its far half).
    from_month_end: bool = False


# From this offset on, a page by number in order of creation skips the months before it
# by their counts in the summary (invoice_totals) and walks from the start of its own
# month: at a million invoices page 2000 walked 50,000 index entries from the newest (9-10
# ms); from the start of its month, 12,856. Below this (page 400 of 25), the walk costs
# less than counting the months (1-1.5 ms). A page past the last one is answered from the
# count alone, where it walked every invoice the filter matched (0.4 s at 750,000).
SKIP_MONTHS_FROM = 10_000


def _bound(name: str) -> Any:
    """A value a cached statement takes at execution (typed Any: it stands in for an int,
    a date or a currency code in the filter the statement is built from)."""
    return bindparam(name)


def _bound_criteria(shape: _Browse) -> InvoiceFilter:
    """The filter a shape's statements are built from, its values bound at execution (the
    viewer's own customer is in `customer`: _browse_values)."""
    return InvoiceFilter(
        customer_id=_bound("customer") if shape.customer else None,
        void=shape.void,
        payment=shape.payment,
        status=shape.status,
        overdue=shape.overdue,
        today=_bound("today") if shape.overdue is not None else None,
        currency=_bound("currency") if shape.currency else None,
    )


@lru_cache(maxsize=256)
def _browse_statements(shape: _Browse) -> tuple[Select[Any], Select[Any]]:
    """The page statement and its count statement, for one shape (see _Browse)."""
    criteria = _bound_criteria(shape)
    count_query = _count_from_summary(SYSTEM, criteria)
    start = (
        [_keyset(shape.sort).beyond(_bound("after_value"), _bound("after_id"))]
        if shape.after
        else []
    )
    walk = shape.sort
    if shape.from_month:
        begins = _bound("month_begins")
        newest_first = shape.sort.descending
        start.append(Invoice.created_at < begins if newest_first else Invoice.created_at >= begins)
        if shape.from_month_end:
            ends = _bound("month_ends")
            start.append(Invoice.created_at >= ends if newest_first else Invoice.created_at < ends)
            walk = replace(shape.sort, descending=not newest_first)
    if _walks_announced(shape):
        ids_query = _overdue_ids(criteria, start, walk)
    else:
        ids_query = (
            select(Invoice.id)
            .where(*_scope_and_state(SYSTEM, criteria), *start)
            .order_by(*_order(walk))
            .limit(bindparam("page_limit", type_=Integer))
            .offset(bindparam("page_offset", type_=Integer))
        )
    # A page placed by the months' counts binds their sum, not the summary added up again.
    count = (
        bindparam("page_total", type_=Integer)
        if shape.from_month
        else count_query.scalar_subquery()
    )
    return _page_of(ids_query, count, walk), count_query


def _walks_announced(shape: _Browse) -> bool:
    """The overdue filter in order of creation, over all customers: read as what the
    dunning round announced and what fell due since (_overdue_ids). One customer's walk
    passes only its own invoices not yet due, and the customer's index serves it."""
    return shape.overdue is True and shape.sort.field is SortField.CREATED and not shape.customer


def _overdue_ids(
    criteria: InvoiceFilter, start: list[ColumnElement[bool]], walk: InvoiceSort
) -> Select[Any]:
    """The page's ids of overdue invoices in order of creation, as two walks that pass no
    invoice not yet due: those the dunning round announced overdue (ix_invoices_announced_
    created, read in order), and those it has not (ix_invoices_announced_due: a range of
    due dates up to the day asked, the few fallen due since its last run or issued already
    due, read and sorted). Each gives as many as the page reaches; their union is sorted and
    the page taken from it. Both test the whole rule again: an announcement is of one due
    date, and the day asked may be any."""
    others = _scope_and_state(SYSTEM, replace(criteria, overdue=None))
    overdue = overdue_condition(_day(criteria))
    reach = bindparam("page_reach", type_=Integer)
    # Named for MariaDB: weighing the invoices' other indexes for each walk took it longer
    # than the walks (0.4 ms of 2.2 at a million invoices).
    walks = ((true(), "ix_invoices_announced_created"), (false(), "ix_invoices_announced_due"))
    parts = [
        select(Invoice.id, Invoice.created_at)
        .where(*others, overdue, Invoice.overdue_announced == announced, *start)
        .with_hint(Invoice, f"FORCE INDEX ({index})", "mysql")
        .order_by(*_order(walk))
        .limit(reach)
        .subquery()
        for announced, index in walks
    ]
    both = union_all(*(select(part.c.id, part.c.created_at) for part in parts)).subquery()
    order = (both.c.created_at, both.c.id)
    return (
        select(both.c.id)
        .order_by(*(column.desc() if walk.descending else column.asc() for column in order))
        .limit(bindparam("page_limit", type_=Integer))
        .offset(bindparam("page_offset", type_=Integer))
    )


def _browse_values(
    viewer: Viewer, criteria: InvoiceFilter, sort: InvoiceSort, request: PageRequest
) -> tuple[_Browse, dict[str, Any]] | None:
    """The shape of a page without a text search and the values it binds; None for a
    customer's token asking for another customer's invoices (no shape: built as it is)."""
    customers = _customers(viewer, criteria)
    if len(customers) > 1:
        return None
    values: dict[str, Any] = {
        "page_limit": request.per_page + 1,  # one more: whether another page follows
        "page_offset": request.offset,
    }
    if customers:
        values["customer"] = customers.pop()
    if criteria.currency is not None:
        values["currency"] = criteria.currency
    if criteria.overdue is not None:
        values["today"] = _day(criteria)
    if request.after is not None:
        values["after_value"], values["after_id"] = _keyset(sort).position(request.after)
    shape = _Browse(
        customer="customer" in values,
        currency=criteria.currency is not None,
        overdue=criteria.overdue,
        void=criteria.void,
        payment=criteria.payment,
        status=criteria.status,
        sort=sort,
        after=request.after is not None,
    )
    if _walks_announced(shape):
        values["page_reach"] = request.offset + request.per_page + 1
    return shape, values


async def list_invoices(
    db: Database,
    viewer: Viewer,
    criteria: InvoiceFilter,
    sort: InvoiceSort,
    request: PageRequest,
    zone: ZoneInfo | None = None,
) -> Page[InvoiceRow]:
    """One page, read in one statement with its count (_page_of); a search counts first.
    `zone`: the business time zone, which the summary's months are in; with it, a deep
    page by number in order of creation starts from its month (SKIP_MONTHS_FROM)."""
    keyset = _keyset(sort)
    term = validation.search_term(criteria.search)
    browse = None if term else _browse_values(viewer, criteria, sort, request)
    async with db.read_connection() as connection:
        if browse is not None:
            shape, values = browse
            if zone is not None and _skips_months(shape, request):
                skipped = await _months_before(connection, shape, values, request, zone)
                if skipped is not None and skipped.begins is None:
                    return _page([], skipped.passed, request, keyset)
                if skipped is not None:
                    shape, values = _from_month(shape, values, skipped)
            page_query, count_query = _browse_statements(shape)
            total: int | None = None
        else:
            page_query, count_query, total = await _built_page(
                connection, db.dialect, viewer, criteria, sort, request, term
            )
            values = {}
        rows = (await connection.execute(page_query, values)).all()
        if browse is not None and shape.from_month_end:
            rows.reverse()
        if rows:
            total = int(rows[0][-1])
        elif total is None:  # past the last page: no row carried the count
            total = int((await connection.execute(count_query, values)).scalar_one())
    return _page(rows, total, request, keyset)


def _skips_months(shape: _Browse, request: PageRequest) -> bool:
    """A page by number, deep enough, in order of creation, with filters the summary
    counts by month (all but the overdue filter)."""
    return (
        shape.sort.field is SortField.CREATED
        and not shape.after
        and shape.overdue is None
        and request.offset >= SKIP_MONTHS_FROM
    )


@dataclass(frozen=True)
class _MonthStart:
    """The start of the month after the page's own (newest first) or of its own (oldest
    first), and how many invoices the months before it hold, by the summary; no start: the
    page lies past the last one. `ends`: where the page's month ends the other way (its
    own start newest first, the next month's oldest first), and `held`: how many invoices
    it holds (no end: none to walk back from). `total`: how many all the months hold."""

    begins: datetime | None
    passed: int
    total: int
    ends: datetime | None = None
    held: int = 0


def _from_month(
    shape: _Browse, values: dict[str, Any], month: _MonthStart
) -> tuple[_Browse, dict[str, Any]]:
    """The page walked from the start of its month; or, when it lies in the far half of
    the month (and the row after it too), walked back from the month's other end, which
    passes fewer invoices (page 2000 at a million: 3,556 instead of 12,856)."""
    local = values["page_offset"] - month.passed
    back = month.held - local - values["page_limit"]
    values = {
        **values,
        "month_begins": month.begins,
        "page_offset": local,
        "page_total": month.total,
    }
    if month.ends is None or not 0 <= back < local:
        return replace(shape, from_month=True), values
    values.update(month_ends=month.ends, page_offset=back)
    return replace(shape, from_month=True, from_month_end=True), values


@lru_cache(maxsize=256)
def _months_statement(shape: _Browse) -> Select[int, int]:
    """How many invoices each currency's months hold, for one shape's filters (built once
    per shape: building it was 0.15 ms of a deep page's CPU). Grouped as the summary's key
    runs (customer, currency, month), MariaDB adds the rows up as it reads them; grouped
    by month alone, it sorted them in a temporary table (0.1-0.2 ms more of its time)."""
    return (
        select(InvoiceTotals.month, func.sum(InvoiceTotals.invoice_count))
        .where(*_summary_conditions(SYSTEM, _bound_criteria(shape)))
        .group_by(InvoiceTotals.currency, InvoiceTotals.month)
    )


async def _months_before(
    connection: AsyncConnection,
    shape: _Browse,
    values: dict[str, Any],
    request: PageRequest,
    zone: ZoneInfo,
) -> _MonthStart | None:
    """Where the page's walk may start instead of at the first invoice (_MonthStart).
    None when the page lies in the first month (nothing to skip) or where the zone's
    clocks make a month's start no single instant (periods.month_begins).

    Exact as long as the summary's months are those of `zone` (`invoicing db
    rebuild-summaries` after changing business.timezone, as the stats need)."""
    held_by: dict[int, int] = defaultdict(int)
    for month, count in (await connection.execute(_months_statement(shape), values)).all():
        held_by[month] += int(count)
    total = sum(held_by.values())
    passed, page_month, held = 0, None, 0
    for month, count in sorted(held_by.items(), reverse=shape.sort.descending):
        if passed + count > request.offset:
            page_month, held = month, count
            break
        passed += count
    if page_month is None:
        return _MonthStart(None, passed, total)
    if passed == 0:
        return None
    own, after = month_begins(page_month, zone), month_begins(next_month(page_month), zone)
    begins, ends = (after, own) if shape.sort.descending else (own, after)
    return None if begins is None else _MonthStart(begins, passed, total, ends, held)


async def _built_page(
    connection: AsyncConnection,
    dialect: str,
    viewer: Viewer,
    criteria: InvoiceFilter,
    sort: InvoiceSort,
    request: PageRequest,
    term: str | None,
) -> tuple[Select[Any], Select[Any], int | None]:
    """A search's page (counted first: the count decides how it is read), or a customer's
    token asking for another's invoices: the page statement, its count statement, and the
    count when it is known already."""
    filters = _scope_and_state(viewer, criteria)
    start = [_keyset(sort).after(request.after)] if request.after is not None else []
    total: int | None = None
    if term:
        found = await invoice_search.match(
            connection,
            term,
            by_customer_name=viewer.customer_scope is None and criteria.customer_id is None,
        )
        count_query = found.count_query(filters)
        total = int((await connection.execute(count_query)).scalar_one())
        ids_query = _search_page(found, filters, sort, total, dialect)
    else:
        count_query = _count_from_summary(viewer, criteria)
        ids_query = select(Invoice.id).where(*filters)
    # One row more than the page: whether another page follows, without counting.
    ids_query = (
        ids_query.where(*start)
        .order_by(*_order(sort))
        .limit(request.per_page + 1)
        .offset(request.offset)
    )
    count = count_query.scalar_subquery() if total is None else literal(total)
    return _page_of(ids_query, count, sort), count_query, total


def _page(
    rows: Sequence[Row[Any]], total: int, request: PageRequest, keyset: Keyset
) -> Page[InvoiceRow]:
    """The page of `rows` (the page's statement: _INVOICE_COLUMNS, then its count)."""
    items = [InvoiceRow._make(row[: len(_INVOICE_COLUMNS)]) for row in rows[: request.per_page]]
    return Page(
        items=items,
        total_count=total,
        page=request.page,
        per_page=request.per_page,
        end_cursor=keyset.cursor(items[-1]) if items else None,
        more=len(rows) > request.per_page,
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
    customers = _customers(viewer, criteria)
    late: Select[Any] = overdue_count(
        next(iter(customers), None), _day(criteria), criteria.currency
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
    return query.where(*_summary_conditions(viewer, criteria))


def _summary_conditions(viewer: Viewer, criteria: InvoiceFilter) -> list[ColumnElement[bool]]:
    """The rows of the summary (invoice_totals) that count the invoices the filter asks
    for, but for a text search or the overdue filter."""
    customers = _customers(viewer, criteria)
    conditions: list[ColumnElement[bool]] = []
    if len(customers) > 1:
        conditions.append(false())  # a customer asking for another's invoices: none
    else:
        conditions.append(InvoiceTotals.customer_id == next(iter(customers), ALL_CUSTOMERS))
    if criteria.currency is not None:
        conditions.append(InvoiceTotals.currency == criteria.currency)
    return conditions + _state_conditions(criteria, InvoiceTotals.void, InvoiceTotals.status)
