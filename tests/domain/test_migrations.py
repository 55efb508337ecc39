"""The migrations build exactly the schema the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from domain.model.entities import Base
from domain.store.database import Database


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
