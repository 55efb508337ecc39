"""The search box finds invoices by the start of each word of a title or a customer's name,
through an index on both databases, and the words follow every name and title written."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, text, update

from domain.config import Settings
from domain.model.access import SYSTEM
from domain.model.commands import CustomerData, GenerateRequest
from domain.model.entities import CustomerNameWord, InvoiceTitleTotals
from domain.model.folding import words
from domain.model.paging import PageRequest
from domain.ops.check import check_database
from domain.queries.invoices import InvoiceFilter, InvoiceSort, VoidFilter, list_invoices
from domain.services import billing, customers, voiding
from domain.store.database import Database
from domain.store.search_words import customers_with, titles_with
from tests.consistency import UTC as ZONE
from tests.consistency import assert_consistent
from tests.helpers import make_charge, make_customer

START = datetime(2025, 3, 1, 12, tzinfo=UTC)


async def _invoice(db: Database, settings: Settings, customer_id: int, title: str, day: int):
    issued = START + timedelta(days=day)
    await make_charge(db, customer_id, "10.00", created_at=issued)
    return await billing.generate_invoice(
        db,
        settings,
        SYSTEM,
        GenerateRequest(
            customer_id=customer_id, title=title, start_date=issued.date(), end_date=issued.date()
        ),
        issued_at=issued,
    )


async def _found(db: Database, term: str) -> list[str]:
    page = await list_invoices(
        db, SYSTEM, InvoiceFilter(search=term), InvoiceSort(), PageRequest(1, 50)
    )
    return sorted(invoice.title for invoice in page.items)


def test_a_text_is_searched_by_its_folded_words_each_once() -> None:
    assert words("Mobile services - March 2024") == ["mobile", "services", "march", "2024"]
    assert words("Ñandú CAFÉ café, S.A.") == ["nandu", "cafe", "s", "a"]
    assert words(" - / %") == []
    assert words("x" * 100) == ["x" * 64]


async def test_each_word_of_the_term_matches_the_start_of_a_word(
    db: Database, settings: Settings
) -> None:
    acme = await make_customer(db, "Acme Logistics")
    await _invoice(db, settings, acme.id, "Mobile services - March 2024", 0)
    await _invoice(db, settings, acme.id, "Internet services - April 2024", 1)
    await _invoice(db, settings, acme.id, "Device rental", 2)
    assert await _found(db, "mob serv") == ["Mobile services - March 2024"]
    assert await _found(db, "SERVICES") == [
        "Internet services - April 2024",
        "Mobile services - March 2024",
    ]
    assert await _found(db, "services april") == ["Internet services - April 2024"]
    # Every word must match: "rental march" is in no one title.
    assert await _found(db, "rental march") == []
    # Inside a word is not the start of one: no index could serve it.
    assert await _found(db, "obile") == []
    # The customer's name, by the start of its words: every invoice of Acme.
    assert len(await _found(db, "acme log")) == 3


async def test_a_renamed_customer_is_found_by_its_new_name_only(
    db: Database, settings: Settings
) -> None:
    customer = await make_customer(db, "Old Name Traders")
    await _invoice(db, settings, customer.id, "Device rental", 0)
    assert await _found(db, "traders") == ["Device rental"]
    await customers.update_customer(
        db, settings, SYSTEM, customer.id, CustomerData(name="Brand New Co-op")
    )
    assert await _found(db, "traders") == []
    assert await _found(db, "brand co") == ["Device rental"]
    await assert_consistent(db)


async def test_a_voided_invoice_is_found_by_its_new_title(db: Database, settings: Settings) -> None:
    customer = await make_customer(db, "Void Tester")
    invoice = await _invoice(db, settings, customer.id, "Support and maintenance", 0)
    voided = await voiding.void_invoice(db, SYSTEM, invoice.id)
    assert voided.title != "Support and maintenance"
    assert await _found(db, voided.title.split()[0]) == [voided.title]
    assert await _found(db, "maintenance") == [voided.title]
    await assert_consistent(db)


async def _counted(db: Database, term: str, void: VoidFilter = VoidFilter.ALL) -> int:
    page = await list_invoices(
        db, SYSTEM, InvoiceFilter(search=term, void=void), InvoiceSort(), PageRequest(1, 1)
    )
    return page.total_count


async def test_a_search_counts_each_title_by_the_invoices_bearing_it_now(
    db: Database, settings: Settings
) -> None:
    """Without a filter the titles' part is summed from the titles' counts; with one, the
    invoices are counted one by one: the two agree as invoices are issued and voided."""
    customer = await make_customer(db, "Count Keeper")
    made = [
        await _invoice(db, settings, customer.id, title, day)
        for day, title in enumerate(["Mobile services", "Mobile services", "Mobile data"])
    ]
    assert await _counted(db, "mobile") == 3
    await voiding.void_invoice(db, SYSTEM, made[0].id)
    voided, kept = VoidFilter.VOID, VoidFilter.NOT_VOID
    # "Void: Mobile services" still holds "mobile": the count moves between titles only.
    assert await _counted(db, "mobile") == 3
    assert await _counted(db, "mobile", voided) == 1 and await _counted(db, "mobile", kept) == 2
    assert await _counted(db, "mobile services") == 2
    assert await _counted(db, "mobile services", kept) == 1
    assert len(await _found(db, "mobile")) == 3
    await assert_consistent(db)


async def test_db_check_names_a_title_counted_wrong(db: Database, settings: Settings) -> None:
    customer = await make_customer(db, "Miscount Ltd")
    await _invoice(db, settings, customer.id, "Device rental", 0)
    async with db.transaction() as session:
        await session.execute(
            update(InvoiceTitleTotals)
            .where(InvoiceTitleTotals.title == "Device rental")
            .values(invoice_count=InvoiceTitleTotals.invoice_count + 1)
        )
    findings = [str(f) for f in await check_database(db, ZONE)]
    assert findings == ["titles the search box counts wrong: Device rental"]
    assert await _counted(db, "rental") == 2  # what a wrong count shows, until rebuilt


async def test_db_check_names_a_customer_whose_words_are_missing(
    db: Database, settings: Settings
) -> None:
    customer = await make_customer(db, "Missing Words Ltd")
    async with db.transaction() as session:
        await session.execute(
            delete(CustomerNameWord).where(CustomerNameWord.customer_id == customer.id)
        )
    findings = [str(f) for f in await check_database(db, ZONE)]
    assert findings == [
        f"customers the search box cannot find by name (customer ids): {customer.id}"
    ]


async def test_the_word_lookups_are_ranges_of_an_index(db: Database) -> None:
    """Each word is looked up as a range of the table's key, on either database."""
    async with db.read() as session:
        for query in (
            titles_with(["mob", "serv"], db.dialect),
            customers_with(["falc"], db.dialect),
        ):
            compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
            if db.dialect == "mysql":
                plan = (await session.execute(text(f"EXPLAIN {compiled}"))).mappings().all()
                words_steps = [row for row in plan if row["table"] and "words" in row["table"]]
                # The key can serve each step (with a few rows in the table the optimizer
                # may still read it whole; at scale it takes the range: docs/scaling.md).
                assert words_steps and all(
                    "PRIMARY" in (row["possible_keys"] or "") for row in words_steps
                ), plan
            else:
                plan = (await session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))).all()
                details = [row[-1] for row in plan]
                searches = [d for d in details if "_words" in d]
                assert searches and all(d.startswith("SEARCH") for d in searches), details
