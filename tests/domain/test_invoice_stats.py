from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.config import Settings
from domain.model.access import SYSTEM, Viewer
from domain.model.commands import GenerateRequest, PaymentRequest
from domain.model.enums import PaymentMethodKind, Role
from domain.queries.invoice_stats import Trend, change, invoice_stats
from domain.services import billing
from domain.services.payments.manual import pay_by_hand
from domain.services.voiding import void_invoice
from domain.store.database import Database
from tests.fakes.clock import PinnableClock
from tests.helpers import make_charge, make_customer

NOW = datetime(2025, 3, 14, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        ("150", "100", (50.0, Trend.UP)),
        ("50", "100", (-50.0, Trend.DOWN)),
        ("100", "100", (0.0, Trend.FLAT)),
        ("100", "0", (None, Trend.UP)),
        ("0", "0", (None, Trend.FLAT)),
        ("0", "80", (-100.0, Trend.DOWN)),
    ],
)
def test_change_and_trend_against_the_month_before(
    current: str, previous: str, expected: tuple
) -> None:
    assert change(Decimal(current), Decimal(previous)) == expected


async def _invoice(
    db: Database, settings: Settings, customer_id: int, cost: str, issued: datetime
) -> object:
    await make_charge(db, customer_id, cost, tax="10", created_at=issued)
    local_day = issued.astimezone(settings.business.zone).date()
    request = GenerateRequest(customer_id=customer_id, start_date=local_day, end_date=local_day)
    return await billing.generate_invoice(db, settings, SYSTEM, request, issued_at=issued)


async def test_widgets_sum_totals_count_invoices_and_skip_void_ones(
    db: Database, settings: Settings, clock: PinnableClock
) -> None:
    clock.pin(NOW)
    acme = await make_customer(db, "Acme")
    globex = await make_customer(db, "Globex")
    january = datetime(2025, 1, 20, tzinfo=UTC)
    february = datetime(2025, 2, 10, tzinfo=UTC)
    march = datetime(2025, 3, 2, tzinfo=UTC)
    await _invoice(db, settings, acme.id, "1000.00", january)  # 1100.00 with tax
    paid = await _invoice(db, settings, acme.id, "500.00", february)  # 550.00
    await _invoice(db, settings, globex.id, "1500.00", february)  # 1650.00
    await _invoice(db, settings, acme.id, "3000.00", march)  # 3300.00
    voided = await _invoice(db, settings, globex.id, "9000.00", march)
    await void_invoice(db, SYSTEM, voided.id)
    await pay_by_hand(db, SYSTEM, PaymentRequest(paid.id, PaymentMethodKind.CASH))

    stats = await invoice_stats(db, settings, SYSTEM)
    assert (stats.total.amount, stats.total.count, stats.total.display) == (
        Decimal("6600.00"),
        4,
        "$6.6k",
    )
    assert (stats.unpaid.amount, stats.unpaid.count) == (Decimal("6050.00"), 3)
    assert (stats.this_month.amount, stats.this_month.count) == (Decimal("3300.00"), 1)
    assert (stats.this_month.change_percent, stats.this_month.trend) == (
        50.0,
        Trend.UP,
    )  # 3300 vs 2200
    assert (stats.last_month.amount, stats.last_month.count) == (Decimal("2200.00"), 2)
    assert (stats.last_month.change_percent, stats.last_month.trend) == (
        100.0,
        Trend.UP,
    )  # 2200 vs 1100
    assert stats.total.trend is None and stats.total.change_percent is None

    only_globex = await invoice_stats(db, settings, SYSTEM, globex.id)
    assert (only_globex.total.amount, only_globex.total.count) == (Decimal("1650.00"), 1)
    assert (only_globex.this_month.amount, only_globex.this_month.trend) == (
        Decimal("0.00"),
        Trend.DOWN,
    )
    assert only_globex.this_month.display == "$0.00"


async def test_a_customer_sees_only_its_own_stats(
    db: Database, settings: Settings, clock: PinnableClock
) -> None:
    clock.pin(NOW)
    acme = await make_customer(db, "Acme")
    globex = await make_customer(db, "Globex")
    await _invoice(db, settings, acme.id, "10.00", datetime(2025, 3, 1, tzinfo=UTC))
    await _invoice(db, settings, globex.id, "20.00", datetime(2025, 3, 1, tzinfo=UTC))
    portal = Viewer(role=Role.CUSTOMER, name="portal", customer_id=acme.id)
    own = await invoice_stats(db, settings, portal)
    assert own.total.amount == Decimal("11.00")
    assert await invoice_stats(db, settings, portal, globex.id) is None


async def test_a_spanish_customer_reads_its_stats_as_its_invoices_print_amounts(
    db: Database, settings: Settings, clock: PinnableClock
) -> None:
    clock.pin(NOW)
    andina = await make_customer(db, "Compañía Andina", language="es")
    await _invoice(db, settings, andina.id, "313.58", datetime(2025, 3, 1, tzinfo=UTC))
    portal = Viewer(role=Role.CUSTOMER, name="portal", customer_id=andina.id)
    assert (await invoice_stats(db, settings, portal)).total.display == "344,94\xa0US$"
    # Staff read every widget in the business's language, this customer's too.
    staff = await invoice_stats(db, settings, SYSTEM, andina.id)
    assert staff.total.display == "$344.94"


async def test_months_are_calendar_months_in_the_business_zone(
    db: Database, clock: PinnableClock
) -> None:
    clock.pin(datetime(2025, 3, 2, tzinfo=UTC))
    from domain.config import settings_from_mapping

    settings = settings_from_mapping(
        {"database": {"url": "sqlite+aiosqlite://"}, "business": {"timezone": "Australia/Sydney"}}
    )
    customer = await make_customer(db)
    # 2025-02-28 14:00 UTC is already 1 March in Sydney.
    await _invoice(db, settings, customer.id, "10.00", datetime(2025, 2, 28, 14, tzinfo=UTC))
    stats = await invoice_stats(db, settings, SYSTEM, customer.id)
    assert (stats.this_month.count, stats.last_month.count) == (1, 0)
