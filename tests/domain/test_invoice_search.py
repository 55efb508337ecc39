"""The search box finds the same invoices, in the same order and count, whichever plan the
database is given: hits read and sorted, the sort index walked, or plain LIKEs."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.config import Settings
from domain.model.access import SYSTEM, Viewer
from domain.model.commands import GenerateRequest
from domain.model.enums import Role
from domain.model.paging import PageRequest
from domain.queries import invoice_search, invoices
from domain.queries.invoices import InvoiceFilter, InvoiceSort, SortField
from domain.services import billing
from domain.store.database import Database
from tests.helpers import make_charge, make_customer

START = datetime(2025, 1, 1, 12, tzinfo=UTC)


@pytest.fixture
async def ledger(db: Database, settings: Settings) -> dict[str, list[int]]:
    """Invoices titled by service and month for two customers, one named like a title."""
    made: dict[str, list[int]] = {"falcon": [], "mobile": []}
    falcon = await make_customer(db, "Falcon Dental")
    mobile = await make_customer(db, "Mobile Experts 100% Ltd")
    titles = ["Mobile services - March 2024", "Internet services - March 2024", "Device rental"]
    for index in range(9):
        customer = (falcon, mobile)[index % 2]
        issued = START + timedelta(days=index)
        await make_charge(db, customer.id, "10.00", created_at=issued)
        invoice = await billing.generate_invoice(
            db,
            settings,
            SYSTEM,
            GenerateRequest(
                customer_id=customer.id,
                title=titles[index % 3],
                start_date=issued.date(),
                end_date=issued.date(),
            ),
            issued_at=issued,
        )
        made["falcon" if customer is falcon else "mobile"].append(invoice.id)
    return made


async def _search(db: Database, term: str, viewer: Viewer = SYSTEM, **criteria) -> tuple:
    page = await invoices.list_invoices(
        db,
        viewer,
        InvoiceFilter(search=term, **criteria),
        InvoiceSort(SortField.CREATED, descending=True),
        PageRequest(1, 4),
    )
    return page.total_count, [invoice.title for invoice in page.items]


TERMS = ["mobile", "march 2024", "services - march", "falcon", "100%", "rental", "nothing"]


@pytest.mark.parametrize(
    ("dense_hits", "listed_matches"),
    [(20_000, 1000), (0, 1000), (20_000, 0), (0, 0)],
    ids=["hits-sorted", "index-walked", "like-fallback", "walked-like"],
)
async def test_every_plan_finds_the_same_invoices(
    db: Database,
    ledger: dict,
    monkeypatch: pytest.MonkeyPatch,
    dense_hits: int,
    listed_matches: int,
) -> None:
    expected = {term: await _search(db, term) for term in TERMS}
    assert expected["mobile"][0] == 6  # three titles, and the four of "Mobile Experts"
    assert expected["march 2024"][0] == 6
    assert expected["services - march"][0] == 6
    assert expected["falcon"][0] == 5
    # LIKE's wildcards are taken literally: only the customer named "... 100% ..." matches.
    assert expected["100%"] == (
        4,
        [
            "Internet services - March 2024",
            "Device rental",
            "Mobile services - March 2024",
            "Internet services - March 2024",
        ],
    )
    assert expected["nothing"] == (0, [])
    monkeypatch.setattr(invoices, "DENSE_SEARCH_HITS", dense_hits)
    monkeypatch.setattr(invoice_search, "MAX_LISTED_MATCHES", listed_matches)
    for term in TERMS:
        assert await _search(db, term) == expected[term], term


async def test_a_customers_search_skips_customer_names(db: Database, ledger: dict) -> None:
    falcon_invoices = sorted(ledger["falcon"])
    customer_id = (await invoices.get_invoice(db, SYSTEM, falcon_invoices[0])).customer_id
    own = Viewer(role=Role.CUSTOMER, name="falcon", customer_id=customer_id)
    assert await _search(db, "falcon", own) == (0, [])
    assert (await _search(db, "mobile", own))[0] == 2
    assert (await _search(db, "mobile", customer_id=customer_id))[0] == 2
    by_number = (await invoices.get_invoice(db, SYSTEM, falcon_invoices[0])).number
    assert (await _search(db, by_number))[0] == 1
    assert (await _search(db, str(falcon_invoices[0])))[0] >= 1


async def test_search_ignores_case_and_accents_on_every_database(
    db: Database, settings: Settings
) -> None:
    café = await make_customer(db, "Café Ñandú")
    for index, title in enumerate(["Café crème - May", "Cafe latte - June", "Tea - July"]):
        issued = START + timedelta(days=index)
        await make_charge(db, café.id, "10.00", created_at=issued)
        await billing.generate_invoice(
            db,
            settings,
            SYSTEM,
            GenerateRequest(
                customer_id=café.id, title=title, start_date=issued.date(), end_date=issued.date()
            ),
            issued_at=issued,
        )
    for term in ("Cafe", "café", "CAFÉ", "cafe"):
        # Both café titles; the customer's own name matches "Tea - July" too, system-wide.
        assert (await _search(db, term))[0] == 3, term
        scoped = Viewer(role=Role.CUSTOMER, name="café", customer_id=café.id)
        assert (await _search(db, term, scoped))[0] == 2, term
    assert (await _search(db, "nandu"))[0] == 3 and (await _search(db, "CRÈME"))[0] == 1
