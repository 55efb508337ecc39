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
