"""Reading invoices: one, a filtered and sorted page, their frozen lines, and what a viewer
may do with each."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, false, func, literal, select

from domain import invoice_search
from domain.access import Viewer
from domain.config import Settings
from domain.db import Database
from domain.invoice_totals import ALL_CUSTOMERS
from domain.models import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTotals,
    PaymentMethodKind,
)
from domain.money import format_money
from domain.pagination import Page, PageRequest


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


class Action(enum.StrEnum):
    DOWNLOAD_PDF = "DOWNLOAD_PDF"
    SEND_EMAIL = "SEND_EMAIL"
    PAY = "PAY"
    REFUND = "REFUND"
    VOID = "VOID"


@dataclass(frozen=True)
class InvoiceFilter:
    customer_id: int | None = None
    search: str | None = None
    void: VoidFilter = VoidFilter.ALL
    payment: PaymentFilter = PaymentFilter.ALL
    status: InvoiceStatus | None = None


@dataclass(frozen=True)
class InvoiceSort:
    field: SortField = SortField.CREATED
    descending: bool = True


_SORT_COLUMNS = {
    SortField.ID: Invoice.id,
    SortField.TITLE: Invoice.title,
    SortField.DUE_DATE: Invoice.due_date,
    SortField.CREATED: Invoice.created_at,
    SortField.AMOUNT: Invoice.total,
    # Alphabetical happens to be the order the list wants: PAID, REFUNDED, UNPAID.
    SortField.STATUS: Invoice.status,
}


def actions_for(invoice: Invoice, viewer: Viewer) -> list[Action]:
    """The buttons the details modal shows this viewer now."""
    allowed = [Action.DOWNLOAD_PDF]
    if not invoice.void:
        allowed.append(Action.SEND_EMAIL)
    unpaid = invoice.status is InvoiceStatus.UNPAID and not invoice.void
    if unpaid:
        allowed.append(Action.PAY)
    if (
        viewer.is_staff
        and invoice.status is InvoiceStatus.PAID
        and invoice.payment_method is PaymentMethodKind.STRIPE
    ):
        allowed.append(Action.REFUND)
    if viewer.is_staff and unpaid:
        allowed.append(Action.VOID)
    return allowed


def period_text(invoice: Invoice) -> str:
    if invoice.start_date is None or invoice.end_date is None:
        return "N/A"
    return f"{invoice.start_date.isoformat()} - {invoice.end_date.isoformat()}"


def tax_display(line: InvoiceLine, currency_symbol: str) -> str:
    """As the details modal shows a line's tax: "$10.00 (10%)", or "-" when there is none."""
    if line.tax_amount == 0:
        return "-"
    percent = line.tax_percentage.normalize()
    return f"{format_money(line.tax_amount, currency_symbol)} ({percent:f}%)"


def pdf_url(settings: Settings, invoice_id: int) -> str:
    return f"{settings.server.public_url}/crm/invoice/{invoice_id}/pdf"


def pay_url(settings: Settings, invoice: Invoice) -> str:
    return settings.invoice.pay_url_template.format(id=invoice.id, number=invoice.number)


async def get_invoice(db: Database, viewer: Viewer, invoice_id: int) -> Invoice | None:
    async with db.read() as session:
        invoice = await session.get(Invoice, invoice_id)
    if invoice is None or not viewer.can_see_customer(invoice.customer_id):
        return None
    return invoice


def _state_conditions(criteria: InvoiceFilter, void: Any, status: Any) -> list[Any]:
    """The void, payment and status filters, for the invoices or for their summary."""
    conditions = []
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


def _scope_and_state(viewer: Viewer, criteria: InvoiceFilter) -> list[Any]:
    """Every condition of the list but the text search."""
    conditions = []
    scope = viewer.customer_scope
    if scope is not None:
        conditions.append(Invoice.customer_id == scope)
    if criteria.customer_id is not None:
        conditions.append(Invoice.customer_id == criteria.customer_id)
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
    term = (criteria.search or "").strip()
    async with db.read() as session:
        if term:
            found = await invoice_search.match(
                session,
                term,
                by_customer_name=viewer.customer_scope is None and criteria.customer_id is None,
                scoped=viewer.customer_scope is not None or criteria.customer_id is not None,
            )
            # The count comes first here: it decides how the page is read.
            count_query = found.count_query(filters)
            total: int | None = (await session.execute(count_query)).scalar_one()
            ids_query = _search_page(found, filters, sort, total or 0, db.dialect)
        else:
            count_query = _count_from_summary(viewer, criteria)
            total = None
            ids_query = select(Invoice.id).where(*filters)
        page_ids = (
            ids_query.order_by(*order)
            .limit(request.per_page)
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
            total = rows[0][1]
        elif total is None:  # past the last page: no row carried the count
            total = (await session.execute(count_query)).scalar_one()
    return Page(
        items=[row[0] for row in rows],
        total_count=int(total),
        page=request.page,
        per_page=request.per_page,
    )


def _search_page(
    found: invoice_search.SearchMatch,
    filters: list[Any],
    sort: InvoiceSort,
    total: int,
    dialect: str,
) -> Select[tuple[int]]:
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


def _count_from_summary(viewer: Viewer, criteria: InvoiceFilter) -> Select[tuple[int]] | None:
    """The exact count from the maintained summary (invoice_totals), which has a row per
    customer, month and state: every filter but a text search maps onto it."""
    if criteria.search and criteria.search.strip():
        return None
    query = select(func.coalesce(func.sum(InvoiceTotals.invoice_count), 0))
    customers = {c for c in (viewer.customer_scope, criteria.customer_id) if c is not None}
    query = query.where(
        InvoiceTotals.customer_id.in_(customers)
        if customers
        else InvoiceTotals.customer_id == ALL_CUSTOMERS
    )
    if len(customers) > 1:
        query = query.where(false())  # a customer asking for another's invoices: none
    return query.where(*_state_conditions(criteria, InvoiceTotals.void, InvoiceTotals.status))


async def invoices_by_id(db: Database, ids: Iterable[int]) -> dict[int, Invoice]:
    async with db.read() as session:
        rows = await session.execute(select(Invoice).where(Invoice.id.in_(set(ids))))
        return {row.id: row for row in rows.scalars()}


async def lines_by_invoice(
    db: Database, invoice_ids: Iterable[int]
) -> dict[int, list[InvoiceLine]]:
    found: dict[int, list[InvoiceLine]] = defaultdict(list)
    async with db.read() as session:
        rows = await session.execute(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id.in_(set(invoice_ids)))
            .order_by(InvoiceLine.invoice_id, InvoiceLine.position)
        )
        for line in rows.scalars():
            found[line.invoice_id].append(line)
    return found
