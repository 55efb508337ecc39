"""Nested fields load in batches: a bigger page costs no more queries."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

from sqlalchemy import event

from domain.bootstrap import Runtime
from domain.config import Settings
from domain.model.access import SYSTEM
from domain.model.commands import GenerateRequest
from domain.model.enums import ContactType
from domain.services import billing
from domain.store.database import Database
from tests.helpers import Api, add_contact, make_charge, make_customer

PAGE = """
{ invoices(perPage: 100) { totalCount items {
    id number total status actions pdfUrl
    customer { name address { city } contacts { email } paymentMethods { last4 } }
    lines { title retailCost taxDisplay }
    events { kind actor }
    pdf { hash stale pageCount }
} } }"""


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):  # not SQLite's explicit BEGINs
            statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)


async def _invoices(db: Database, settings: Settings, how_many: int, start: int) -> list[int]:
    made = []
    for i in range(start, start + how_many):
        customer = await make_customer(db, f"Customer {i}")
        await add_contact(db, customer.id, f"ap{i}@example.com", ContactType.BILLING)
        for day in (3, 4):
            await make_charge(db, customer.id, created_at=datetime(2025, 1, day, tzinfo=UTC))
        request = GenerateRequest(
            customer_id=customer.id, start_date=date(2025, 1, 1), end_date=date(2025, 1, 31)
        )
        made.append((await billing.generate_invoice(db, settings, SYSTEM, request)).id)
    return made


async def test_a_page_of_invoices_costs_the_same_queries_whatever_its_size(
    api: Api, settings: Settings, runtime: Runtime
) -> None:
    await api.staff_token()
    first = await _invoices(api.db, settings, 3, 0)
    await runtime.pdfs.get(SYSTEM, first[0])  # one invoice has a cached PDF
    with counting(api.db) as small:
        data = await api.gql(PAGE)
    assert data["invoices"]["totalCount"] == 3
    more = await _invoices(api.db, settings, 40, 3)
    for invoice_id in more[:2]:
        await runtime.pdfs.get(SYSTEM, invoice_id)
    with counting(api.db) as large:
        data = await api.gql(PAGE)
    items = data["invoices"]["items"]
    assert data["invoices"]["totalCount"] == 43 and len(items) == 43
    assert all(len(item["lines"]) == 2 and item["customer"]["contacts"] for item in items)
    rendered = [item for item in items if item["pdf"] is not None]
    assert len(rendered) == 3 and not any(item["pdf"]["stale"] for item in rendered)
    assert len(large) == len(small), (len(small), len(large))
    # token, page (with its count), customers, contacts, cards, lines, events, PDF statuses,
    # the payment plans of the open invoices among them (a PDF shows its plan), open payment
    # attempts (for the actions)
    assert len(large) <= 10, large
