from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.config import Settings
from domain.errors import DomainError, ErrorCode
from domain.model.access import SYSTEM, Viewer
from domain.model.commands import TransactionChanges
from domain.model.entities import Invoice
from domain.model.enums import Role
from domain.model.paging import PageRequest
from domain.queries import transactions as queries
from domain.queries.transactions import TransactionFilter
from domain.services import transactions
from domain.store.database import Database
from tests.helpers import make_charge, make_customer, make_product, snapshot


async def test_tax_amount_is_cost_times_percentage_rounded_half_up(db: Database) -> None:
    customer = await make_customer(db)
    row = await make_charge(db, customer.id, "0.50", tax="21")
    assert row.tax_amount == Decimal("0.11")
    stored = await queries.get_transaction(db, SYSTEM, row.id)
    assert stored is not None
    assert (stored.retail_cost, stored.tax_percentage, stored.tax_amount) == (
        Decimal("0.50"),
        Decimal("21.00"),
        Decimal("0.11"),
    )


async def test_tax_percentage_defaults_to_the_products_then_zero(db: Database) -> None:
    customer = await make_customer(db)
    product = await make_product(db, tax="21")
    from_product = await make_charge(db, customer.id, "100", product_id=product.id)
    without = await make_charge(db, customer.id, "100")
    explicit = await make_charge(db, customer.id, "100", product_id=product.id, tax="0")
    assert from_product.tax_percentage == Decimal("21") and from_product.tax_amount == Decimal(
        "21.00"
    )
    assert without.tax_percentage == 0 and without.tax_amount == 0
    assert explicit.tax_amount == 0


async def test_a_credit_may_be_negative(db: Database) -> None:
    customer = await make_customer(db)
    credit = await make_charge(db, customer.id, "-15.00", tax="10")
    assert credit.retail_cost == Decimal("-15.00") and credit.tax_amount == Decimal("-1.50")


@pytest.mark.parametrize(
    ("cost", "tax", "field"),
    [
        ("0", None, "retail_cost"),
        ("1.005", None, "retail_cost"),
        ("10", "100.5", "tax_percentage"),
        ("10", "-1", "tax_percentage"),
        ("10", "10.125", "tax_percentage"),
    ],
)
async def test_bad_amounts_are_refused_and_nothing_is_written(
    db: Database, cost: str, tax: str | None, field: str
) -> None:
    customer = await make_customer(db)
    before = await snapshot(db)
    with pytest.raises(DomainError) as refused:
        await make_charge(db, customer.id, cost, tax=tax)
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_INPUT, field)
    assert await snapshot(db) == before


async def test_a_missing_customer_or_product_is_not_found(db: Database) -> None:
    customer = await make_customer(db)
    with pytest.raises(DomainError) as no_customer:
        await make_charge(db, customer.id + 1000)
    assert (no_customer.value.code, no_customer.value.field) == (ErrorCode.NOT_FOUND, "customer_id")
    with pytest.raises(DomainError) as no_product:
        await make_charge(db, customer.id, product_id=999)
    assert (no_product.value.code, no_product.value.field) == (ErrorCode.NOT_FOUND, "product_id")


async def _bill(db: Database, *rows) -> int:
    # Issue 4 brings invoice generation; until then a billed transaction is set up directly.
    async with db.transaction() as session:
        invoice = Invoice(
            customer_id=rows[0].customer_id,
            title="t",
            due_date=date(2025, 1, 1),
            subtotal=Decimal(0),
            tax=Decimal(0),
            total=Decimal(0),
            currency="USD",
        )
        session.add(invoice)
        await session.flush()
        for row in rows:
            bound = await session.get(type(row), row.id)
            bound.invoice_id = invoice.id
        return invoice.id


async def test_a_billed_transaction_cannot_be_changed_or_deleted(
    db: Database, settings: Settings
) -> None:
    customer = await make_customer(db)
    row = await make_charge(db, customer.id, "10")
    await _bill(db, row)
    before = await snapshot(db)
    with pytest.raises(DomainError) as update:
        await transactions.update_transaction(db, SYSTEM, row.id, TransactionChanges(title="x"))
    with pytest.raises(DomainError) as delete:
        await transactions.delete_transaction(db, SYSTEM, row.id)
    assert update.value.code == delete.value.code == ErrorCode.TRANSACTION_BILLED
    assert "void" in update.value.message
    assert await snapshot(db) == before


async def test_updating_cost_or_tax_recomputes_the_tax_amount(
    db: Database, settings: Settings
) -> None:
    customer = await make_customer(db)
    row = await make_charge(db, customer.id, "10", tax="10")
    changed = await transactions.update_transaction(
        db, SYSTEM, row.id, TransactionChanges(retail_cost=Decimal("20.05"))
    )
    assert changed.tax_amount == Decimal("2.01")  # 2.005 half up
    changed = await transactions.update_transaction(
        db, SYSTEM, row.id, TransactionChanges(tax_percentage=Decimal("0"))
    )
    assert changed.tax_amount == 0 and changed.retail_cost == Decimal("20.05")


async def test_only_staff_create_change_or_delete(db: Database, settings: Settings) -> None:
    customer = await make_customer(db)
    row = await make_charge(db, customer.id)
    portal = Viewer(role=Role.CUSTOMER, name="portal", customer_id=customer.id)
    for attempt in (
        transactions.update_transaction(db, portal, row.id, TransactionChanges(title="x")),
        transactions.delete_transaction(db, portal, row.id),
    ):
        with pytest.raises(DomainError) as refused:
            await attempt
        assert refused.value.code == ErrorCode.FORBIDDEN


async def test_date_filters_take_whole_days_in_the_business_zone(db: Database) -> None:
    from zoneinfo import ZoneInfo

    customer = await make_customer(db)
    sydney = ZoneInfo("Australia/Sydney")
    # 2025-01-31 23:30 in Sydney is 2025-01-31 12:30 UTC; 2025-02-01 00:30 Sydney is Jan 31 13:30 UTC.
    late_january = await make_charge(
        db, customer.id, created_at=datetime(2025, 1, 31, 12, 30, tzinfo=UTC)
    )
    early_february = await make_charge(
        db, customer.id, created_at=datetime(2025, 1, 31, 13, 30, tzinfo=UTC)
    )
    january = await queries.list_transactions(
        db,
        SYSTEM,
        sydney,
        TransactionFilter(start_date=date(2025, 1, 1), end_date=date(2025, 1, 31)),
        PageRequest(),
    )
    assert [row.id for row in january.items] == [late_january.id]
    february = await queries.list_transactions(
        db,
        SYSTEM,
        sydney,
        TransactionFilter(start_date=date(2025, 2, 1), end_date=date(2025, 2, 1)),
        PageRequest(),
    )
    assert [row.id for row in february.items] == [early_february.id]
