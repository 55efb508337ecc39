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
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


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
