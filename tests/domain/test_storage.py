"""What the database keeps: any script, exact money, aware UTC times, on both backends."""

from datetime import UTC, datetime
from decimal import Decimal

import pymysql

from domain.model.access import SYSTEM
from domain.ops.migrations import upgrade_async
from domain.queries import customers, transactions
from domain.store.database import Database
from tests.conftest import MYSQL, _mysql_database
from tests.helpers import make_charge, make_customer


async def test_names_in_any_script_round_trip(db: Database) -> None:
    name = "株式会社テスト — Ωmega Ünïcode 🚀"
    made = await make_customer(db, name)
    stored = await customers.get_customer(db, SYSTEM, made.id)
    assert stored is not None and stored.name == name


async def test_money_is_exact_at_any_size(db: Database) -> None:
    customer = await make_customer(db)
    big = await make_charge(db, customer.id, "999999999999.99", tax="0")
    tiny = await make_charge(db, customer.id, "0.01", tax="0")
    assert (await transactions.get_transaction(db, SYSTEM, big.id)).retail_cost == Decimal(
        "999999999999.99"
    )
    assert (await transactions.get_transaction(db, SYSTEM, tiny.id)).retail_cost == Decimal("0.01")


async def test_times_come_back_as_aware_utc_with_microseconds(db: Database) -> None:
    customer = await make_customer(db)
    moment = datetime(2025, 3, 30, 1, 59, 59, 123456, tzinfo=UTC)
    made = await make_charge(db, customer.id, created_at=moment)
    stored = await transactions.get_transaction(db, SYSTEM, made.id)
    assert stored.created_at == moment and stored.created_at.tzinfo == UTC


async def test_mariadb_tables_are_utf8mb4_even_on_a_latin1_database() -> None:
    for url in _mysql_database():
        name = url.rsplit("/", 1)[1].split("?")[0]
        admin = pymysql.connect(**MYSQL)
        with admin.cursor() as cursor:
            cursor.execute(f"ALTER DATABASE {name} CHARACTER SET latin1 COLLATE latin1_swedish_ci")
        await upgrade_async(url)
        with admin.cursor() as cursor:
            cursor.execute(
                # alembic_version is Alembic's own and holds only ASCII revision ids.
                "SELECT DISTINCT table_collation FROM information_schema.tables"
                " WHERE table_schema = %s AND table_name <> 'alembic_version'",
                (name,),
            )
            assert {row[0] for row in cursor.fetchall()} == {"utf8mb4_unicode_ci"}
        admin.close()
