"""The migrations build exactly the schema the models describe, on both databases, and
carry the data across."""

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from domain.bootstrap import open_database
from domain.config import settings_from_mapping
from domain.model.access import SYSTEM
from domain.model.commands import CustomerData, GenerateRequest, PaymentRequest
from domain.model.entities import Base, Invoice, Payment
from domain.model.enums import PaymentMethodKind
from domain.ops.migrations import alembic_config, upgrade_async
from domain.services import billing, customers
from domain.services.payments.manual import pay_by_hand
from domain.store.database import Database
from tests.consistency import assert_consistent
from tests.helpers import make_charge, make_customer


async def test_the_migrated_schema_matches_the_models(db: Database) -> None:
    def differences(connection):
        opts = {"compare_type": True}
        context = MigrationContext.configure(connection, opts=opts)
        return compare_metadata(context, Base.metadata)

    async with db.engine.connect() as connection:
        found = await connection.run_sync(differences)
    assert found == [], found


async def test_a_deleted_charges_id_is_never_handed_out_again(db: Database) -> None:
    from domain.model.access import SYSTEM
    from domain.services import transactions
    from tests.helpers import make_charge, make_customer

    customer = await make_customer(db)
    await make_charge(db, customer.id, "1.00")
    newest = await make_charge(db, customer.id, "2.00")
    await transactions.delete_transaction(db, SYSTEM, newest.id)
    after = await make_charge(db, customer.id, "3.00")
    assert after.id > newest.id


async def test_invoices_settled_before_payments_existed_get_the_payment_that_settled_them(
    tmp_path: Path,
) -> None:
    """Down to 0016 (one payment per invoice, kept on the invoice) and up again: every
    settled invoice gets its payment back from its own columns, and everything adds up."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    here = settings_from_mapping({"database": {"url": url}, "business": {"timezone": "UTC"}})
    await upgrade_async(url)
    db = open_database(here)
    try:
        customer = await make_customer(db)
        made = []
        for day in (5, 6):
            await make_charge(
                db, customer.id, "100.00", tax="10", created_at=datetime(2025, 1, day, tzinfo=UTC)
            )
            request = GenerateRequest(
                customer.id, start_date=date(2025, 1, day), end_date=date(2025, 1, day)
            )
            made.append(await billing.generate_invoice(db, here, SYSTEM, request))
        await pay_by_hand(db, SYSTEM, PaymentRequest(made[0].id, PaymentMethodKind.CASH, "till 3"))
        await db.dispose()

        await asyncio.to_thread(command.downgrade, alembic_config(url), "0016")
        await upgrade_async(url)
        db = open_database(here)
        async with db.read() as session:
            payments = list((await session.execute(select(Payment))).scalars())
        assert [(p.invoice_id, p.amount, p.method, p.reference) for p in payments] == [
            (made[0].id, Decimal("110.00"), PaymentMethodKind.CASH, "till 3")
        ]
        # Each number series starts after the highest number it already holds.
        await make_charge(db, customer.id, "5.00", created_at=datetime(2025, 1, 7, tzinfo=UTC))
        request = GenerateRequest(
            customer.id, start_date=date(2025, 1, 7), end_date=date(2025, 1, 7)
        )
        newest = await billing.generate_invoice(db, here, SYSTEM, request)
        assert newest.number not in {invoice.number for invoice in made}
        assert newest.number_seq == max(invoice.id for invoice in made) + 1
        await assert_consistent(db)
    finally:
        await db.dispose()


async def test_money_moves_to_thousandths_and_back_with_every_amount_unchanged(
    tmp_path: Path,
) -> None:
    """Down to 0019 (hundredths, one currency) and up again: every amount reads as it did,
    the summaries recount equal, and the customers and invoices are in the business's
    currency. A second currency cannot go down: 0019 could not hold it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'money.db'}"
    here = settings_from_mapping({"database": {"url": url}, "business": {"timezone": "UTC"}})
    await upgrade_async(url)
    db = open_database(here)
    try:
        customer = await make_customer(db)
        await make_charge(
            db, customer.id, "100.05", tax="10", created_at=datetime(2025, 1, 5, tzinfo=UTC)
        )
        request = GenerateRequest(customer.id, start_date=date(2025, 1, 1))
        invoice = await billing.generate_invoice(db, here, SYSTEM, request)
        part = PaymentRequest(invoice.id, PaymentMethodKind.CASH, "till", amount=Decimal("10.01"))
        await pay_by_hand(db, SYSTEM, part)
        await db.dispose()

        await asyncio.to_thread(command.downgrade, alembic_config(url), "0019")
        db = open_database(here)
        async with db.read() as session:
            stored = (await session.execute(text("SELECT total, amount_paid FROM invoices"))).all()
        assert [tuple(row) for row in stored] == [(11006, 1001)]  # hundredths again
        await db.dispose()

        await upgrade_async(url)
        db = open_database(here)
        async with db.read() as session:
            again = (await session.execute(select(Invoice))).scalar_one()
        assert (again.total, again.amount_paid, again.currency) == (
            Decimal("110.06"),
            Decimal("10.01"),
            "USD",
        )
        await assert_consistent(db)

        euros = await customers.create_customer(
            db, here, SYSTEM, CustomerData(name="Levante", currency="EUR")
        )
        assert euros.currency == "EUR"
        await db.dispose()
        with pytest.raises(RuntimeError, match="several currencies"):
            await asyncio.to_thread(command.downgrade, alembic_config(url), "0019")
    finally:
        await db.dispose()
