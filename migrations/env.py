"""Alembic environment: runs migrations over the project's async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from domain.config import DatabaseSettings, load_settings
from domain.model.entities import Base
from domain.store.database import create_engine

config = context.config
target_metadata = Base.metadata


def _database_settings() -> DatabaseSettings:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if url:
        return DatabaseSettings(url=url)
    return load_settings().database


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite changes a table by rebuilding it (batch mode): with foreign keys enforced,
        # dropping the old copy would fail or cascade. SQLite's own procedure: turn them
        # off (only possible outside a transaction, hence on the driver's connection
        # before SQLAlchemy begins one), migrate, then check every reference still holds.
        raw = connection.connection.cursor()
        raw.execute("PRAGMA foreign_keys=OFF")
        raw.close()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    migration = context.get_context()
    before = migration.get_current_revision()
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
    # For `invoicing db upgrade` to say what it did.
    config.attributes["revisions"] = (before, migration.get_current_revision())


async def _run_online() -> None:
    engine = create_engine(_database_settings())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=_database_settings().url, target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
