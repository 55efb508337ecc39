"""A deep page by number, in order of creation, starts at its own month, skipping the
months before it by the summary's counts: it holds the same invoices as the walk from the
first invoice, in a time zone whose months start at odd UTC hours (and once twice, the
night the clocks went back), for every page, both directions, one customer or all, the
customers billed in two currencies; a page past the last is empty and still counted."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.config import Settings
from domain.model.access import SYSTEM
from domain.model.commands import CustomerData, GenerateRequest
from domain.model.paging import PageRequest
from domain.queries import invoices
from domain.queries.invoices import InvoiceFilter, InvoiceSort
from domain.services import billing
from domain.services.customers import update_customer
from domain.store.database import Database
from tests.helpers import make_charge, make_customer

# Havana: UTC-4 in summer, UTC-5 in winter; on 1 November 2026 its clocks go back at 1:00
# to 0:00, so the month's first hour happens twice.
HAVANA = ZoneInfo("America/Havana")


def _moments() -> list[datetime]:
    """Instants around the starts of four months, local time: the last half hour of the
    month before, the first half hour of the month, the middle of the month."""
    moments = []
    for year, month in ((2026, 9), (2026, 10), (2026, 11), (2026, 12), (2027, 1)):
        first = datetime(year, month, 1, tzinfo=HAVANA)
        moments += [first - timedelta(minutes=30), first + timedelta(minutes=30)]
        moments.append(datetime(year, month, 15, 12, tzinfo=HAVANA))
    # The repeated hour: 0:30 once in summer time, once more in winter time.
    moments.append(datetime(2026, 11, 1, 0, 40, fold=1, tzinfo=HAVANA))
    return [moment.astimezone(UTC) for moment in moments]


@pytest.fixture
async def havana_ledger(db: Database, settings: Settings) -> list[int]:
    business = settings.business.model_copy(update={"timezone": "America/Havana"})
    in_havana = settings.model_copy(update={"business": business})
    customers = [await make_customer(db, name) for name in ("Acme", "Globex")]
    # Two currencies: the summary counts each month once per currency.
    await update_customer(
        db, settings, SYSTEM, customers[1].id, CustomerData(name="Globex", currency="EUR")
    )
    for index, issued in enumerate(_moments()):
        customer = customers[index % 2]
        await make_charge(db, customer.id, "10.00", created_at=issued)
        await billing.generate_invoice(
            db,
            in_havana,
            SYSTEM,
            GenerateRequest(
                customer_id=customer.id,
                title=f"Invoice {index}",
                start_date=(issued - timedelta(days=1)).date(),
                end_date=(issued + timedelta(days=1)).date(),
                due_date=(issued + timedelta(days=30)).date(),
            ),
            issued_at=issued,
        )
    return [customer.id for customer in customers]


async def _page(db, criteria, descending, number, per_page, zone):
    return await invoices.list_invoices(
        db,
        SYSTEM,
        criteria,
        InvoiceSort(descending=descending),
        PageRequest(number, per_page),
        zone,
    )


@pytest.mark.parametrize("descending", [True, False])
async def test_a_page_from_its_month_holds_what_the_walk_from_the_first_holds(
    db: Database,
    havana_ledger: list[int],
    descending: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(invoices, "SKIP_MONTHS_FROM", 1)
    for criteria in (InvoiceFilter(), InvoiceFilter(customer_id=havana_ledger[1])):
        everything = await _page(db, criteria, descending, 1, 100, None)
        assert everything.total_count in (16, 8)
        for per_page in (1, 2, 3):
            last = -(-everything.total_count // per_page)
            for number in range(1, last + 2):
                walked = await _page(db, criteria, descending, number, per_page, None)
                skipped = await _page(db, criteria, descending, number, per_page, HAVANA)
                assert [i.id for i in skipped.items] == [i.id for i in walked.items]
                expected = everything.items[(number - 1) * per_page : number * per_page]
                assert [i.id for i in skipped.items] == [i.id for i in expected]
                assert skipped.total_count == everything.total_count
                assert skipped.has_next_page == (number < last)
