"""Paging by cursor walks the same invoices, in the same order, as paging by number, for
every sort and direction and with a search too; a cursor for another sort, or a made-up
one, is refused."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.config import Settings
from domain.errors import InvalidInput
from domain.model.access import SYSTEM, Viewer
from domain.model.commands import GenerateRequest
from domain.model.enums import Role
from domain.model.paging import PageRequest
from domain.queries import invoices
from domain.queries.invoices import InvoiceFilter, InvoiceSort, SortField
from domain.services import billing
from domain.store.database import Database
from tests.helpers import make_charge, make_customer

START = datetime(2025, 1, 1, 12, tzinfo=UTC)


@pytest.fixture
async def ledger(db: Database, settings: Settings) -> None:
    """17 invoices with repeated titles, amounts and due dates (ties broken by id)."""
    customers = [await make_customer(db, name) for name in ("Acme", "Globex", "Initech")]
    for index in range(17):
        customer = customers[index % 3]
        issued = START + timedelta(days=index)
        await make_charge(db, customer.id, f"{10 + index % 4}.00", created_at=issued)
        await billing.generate_invoice(
            db,
            settings,
            SYSTEM,
            GenerateRequest(
                customer_id=customer.id,
                title=("Mobile", "Internet", "Devices")[index % 3],
                start_date=issued.date(),
                end_date=issued.date(),
                due_date=(START + timedelta(days=30 + index % 5)).date(),
            ),
            issued_at=issued,
        )


async def _walk(db: Database, sort: InvoiceSort, by_cursor: bool, search: str | None = None):
    seen, page, after = [], 1, None
    while True:
        request = PageRequest(1, 4, after) if by_cursor else PageRequest(page, 4)
        found = await invoices.list_invoices(
            db, SYSTEM, InvoiceFilter(search=search), sort, request
        )
        seen += [invoice.id for invoice in found.items]
        if not found.has_next_page:
            return seen, found.total_count
        page, after = page + 1, found.end_cursor


@pytest.mark.parametrize("field", list(SortField))
@pytest.mark.parametrize("descending", [False, True])
async def test_a_cursor_walk_matches_the_numbered_pages(
    db: Database, ledger: None, field: SortField, descending: bool
) -> None:
    sort = InvoiceSort(field, descending=descending)
    by_number, total = await _walk(db, sort, by_cursor=False)
    by_cursor, _ = await _walk(db, sort, by_cursor=True)
    assert len(by_number) == total == 17
    assert by_cursor == by_number


async def test_a_cursor_walk_through_a_search(db: Database, ledger: None) -> None:
    sort = InvoiceSort(SortField.AMOUNT, descending=True)
    by_number, total = await _walk(db, sort, by_cursor=False, search="mobile")
    by_cursor, _ = await _walk(db, sort, by_cursor=True, search="mobile")
    assert total == 6 and by_cursor == by_number


async def test_a_cursor_from_another_sort_or_made_up_is_refused(db: Database, ledger: None) -> None:
    first = await invoices.list_invoices(
        db, SYSTEM, InvoiceFilter(), InvoiceSort(SortField.TITLE, False), PageRequest(1, 4)
    )
    assert first.end_cursor is not None
    for sort, cursor in (
        (InvoiceSort(SortField.AMOUNT, False), first.end_cursor),
        (InvoiceSort(SortField.TITLE, True), first.end_cursor),
        (InvoiceSort(SortField.TITLE, False), "bm90IGEgY3Vyc29y"),
        (InvoiceSort(SortField.TITLE, False), "%%%"),
    ):
        with pytest.raises(InvalidInput) as refused:
            await invoices.list_invoices(
                db, SYSTEM, InvoiceFilter(), sort, PageRequest(1, 4, cursor)
            )
        assert refused.value.field == "after"
    with pytest.raises(InvalidInput, match="not both"):
        PageRequest(2, 4, first.end_cursor)


async def test_pages_of_one_shape_hold_each_askers_own_invoices(db: Database, ledger: None) -> None:
    """A list page's statements are built once per shape and each page binds its own
    values: the same filter for another customer, or in another customer's token, answers
    for that customer; a token asking for another customer's invoices gets none."""
    everything = await invoices.list_invoices(
        db, SYSTEM, InvoiceFilter(), InvoiceSort(), PageRequest(1, 25)
    )
    owners: dict[int, list[int]] = {}
    for invoice in everything.items:
        owners.setdefault(invoice.customer_id, []).append(invoice.id)
    assert sorted(len(ids) for ids in owners.values()) == [5, 6, 6]
    for customer_id, ids in owners.items():
        token = Viewer(role=Role.CUSTOMER, name="portal", customer_id=customer_id)
        for viewer, criteria in (
            (SYSTEM, InvoiceFilter(customer_id=customer_id)),
            (token, InvoiceFilter()),
            (token, InvoiceFilter(customer_id=customer_id)),
        ):
            page = await invoices.list_invoices(
                db, viewer, criteria, InvoiceSort(), PageRequest(1, 4)
            )
            rest = await invoices.list_invoices(
                db, viewer, criteria, InvoiceSort(), PageRequest(1, 4, page.end_cursor)
            )
            assert page.total_count == len(ids)
            assert [i.id for i in page.items + rest.items] == ids
        other = next(c for c in owners if c != customer_id)
        refused = await invoices.list_invoices(
            db, token, InvoiceFilter(customer_id=other), InvoiceSort(), PageRequest(1, 4)
        )
        assert refused.total_count == 0 and refused.items == []
