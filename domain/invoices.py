"""Reading invoices: one, a filtered and sorted page, their frozen lines, and what a viewer
may do with each."""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Subquery, false, func, or_, select, union
from sqlalchemy.dialects import mysql

from domain.access import Viewer
from domain.config import Settings
from domain.db import Database
from domain.invoice_totals import ALL_CUSTOMERS
from domain.models import (
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTotals,
    PaymentMethodKind,
)
from domain.money import format_money
from domain.pagination import Page, PageRequest, contains_pattern, prefix_pattern


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


# InnoDB indexes words of at least innodb_ft_min_token_size (3) characters.
FULLTEXT_MIN_WORD = 3

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


def _filtered(viewer: Viewer, criteria: InvoiceFilter, dialect: str) -> Select[tuple[Invoice]]:
    query = select(Invoice)
    scope = viewer.customer_scope
    if scope is not None:
        query = query.where(Invoice.customer_id == scope)
    if criteria.customer_id is not None:
        query = query.where(Invoice.customer_id == criteria.customer_id)
    query = query.where(*_state_conditions(criteria, Invoice.void, Invoice.status))
    if criteria.search and criteria.search.strip():
        hits = _search_hits(
            criteria.search.strip(), scope is None and criteria.customer_id is None, dialect
        )
        # Start from the (few) hits and sort those: left to itself, MariaDB walks the whole
        # created_at index probing the hits for each of a million invoices.
        query = (
            query.select_from(hits)
            .join(Invoice, Invoice.id == hits.c.id)
            .prefix_with("STRAIGHT_JOIN", dialect="mysql")
        )
    return query


_NUMBER_LIKE = re.compile(r"^(?=.*\d)(?=.*-)\S+$")


def _search_hits(term: str, by_customer: bool, dialect: str) -> Subquery:
    """The ids of invoices matching a search, as a union of queries that each use an index
    (an OR of them would read every invoice). Every part matches the term anywhere in the
    field, as on SQLite; on MariaDB/MySQL indexes find the candidates first:

    - a term shaped like an invoice number (INV-2025-0012, no spaces) is one: the number's
      unique index by prefix, and nothing else;
    - titles: the FULLTEXT index finds those holding the term's words (3 letters or more,
      by prefix), then LIKE keeps those holding the whole term;
    - customer names (system-wide list only): LIKE over the customers, then their invoices.
    """
    pattern = contains_pattern(term)
    parts = []
    if term.isdigit() and len(term) < 18:
        parts.append(select(Invoice.id).where(Invoice.id == int(term)))
    if dialect != "mysql":
        parts.append(
            select(Invoice.id).where(
                or_(
                    Invoice.number.ilike(pattern, escape="\\"),
                    Invoice.title.ilike(pattern, escape="\\"),
                )
            )
        )
    elif _NUMBER_LIKE.match(term):
        parts.append(
            select(Invoice.id).where(Invoice.number.like(prefix_pattern(term), escape="\\"))
        )
        return union(*parts).subquery("search_hits")
    else:
        parts.append(
            select(Invoice.id).where(Invoice.number.like(prefix_pattern(term), escape="\\"))
        )
        words = [word for word in re.findall(r"[^\W\d_]+", term) if len(word) >= FULLTEXT_MIN_WORD]
        if words:
            query = " ".join(f"+{word}*" for word in words)
            parts.append(
                select(Invoice.id).where(
                    mysql.match(Invoice.title, against=query).in_boolean_mode(),
                    Invoice.title.like(pattern, escape="\\"),
                )
            )
    if by_customer:
        # Only the system-wide list searches customer names (the specification's rule).
        names = select(Customer.id).where(Customer.name.ilike(pattern, escape="\\"))
        parts.append(select(Invoice.id).where(Invoice.customer_id.in_(names)))
    return union(*parts).subquery("search_hits")


async def list_invoices(
    db: Database, viewer: Viewer, criteria: InvoiceFilter, sort: InvoiceSort, request: PageRequest
) -> Page[Invoice]:
    """One page: the page's ids first (an index walk that stops after one page), then those
    rows, and the count. Joining first and sorting after reads every matching row."""
    column = _SORT_COLUMNS[sort.field]
    order = (
        (column.desc(), Invoice.id.desc()) if sort.descending else (column.asc(), Invoice.id.asc())
    )
    filtered = _filtered(viewer, criteria, db.dialect)
    ids_query = (
        filtered.with_only_columns(Invoice.id)
        .order_by(*order)
        .limit(request.per_page)
        .offset(request.offset)
    )
    count_query = _count_from_summary(viewer, criteria)
    if count_query is None:  # a text search: count the matching rows themselves
        count_query = filtered.with_only_columns(func.count(Invoice.id)).order_by(None)
    async with db.read() as session:
        total = (await session.execute(count_query)).scalar_one()
        ids = list((await session.execute(ids_query)).scalars()) if request.offset < total else []
        rows = (
            {
                row.id: row
                for row in (
                    await session.execute(select(Invoice).where(Invoice.id.in_(ids)))
                ).scalars()
            }
            if ids
            else {}
        )
    return Page(
        items=[rows[i] for i in ids],
        total_count=total,
        page=request.page,
        per_page=request.per_page,
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
