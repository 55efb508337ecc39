"""The database: engines, reads, and the unit of work every change goes through.

Both SQLite (the embedded default) and MariaDB/MySQL are first-class (the column types that
keep money and time exact on both are in model/columns.py):
- a unit of work (`transaction()`) commits if its block finishes and rolls back if it
  raises, and stamps the `created_at` of the rows it adds from the injected clock;
- SQLite gets WAL, a busy timeout and real BEGIN statements (pysqlite's own are broken
  for SQLAlchemy), with BEGIN IMMEDIATE for writers so that two writers queue instead of
  failing with "database is locked" halfway through;
- MariaDB runs READ COMMITTED with pre-ping, and state changes lock their rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, UOWTransaction

from domain.config import DatabaseSettings
from domain.ports import Clock
from domain.store.text_search import register_fold

# Raised by the driver when the database server cannot be reached or answer.
DATABASE_UNAVAILABLE = (OperationalError, DBAPIError, OSError, TimeoutError)


def _prepare_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "mysql" and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return parsed.render_as_string(hide_password=False)


def _install_sqlite_fixes(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        register_fold(dbapi_connection)  # searches compare text folded (store/text_search.py)

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def _install_mysql_statement_timeout(engine: AsyncEngine, seconds: float) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # MariaDB stops any statement running longer than this (error 1969).
        cursor.execute(f"SET SESSION max_statement_time = {float(seconds)}")
        cursor.close()


def create_engine(
    settings: DatabaseSettings, statement_timeout: float | None = None, **overrides: Any
) -> AsyncEngine:
    url = _prepare_url(settings.url)
    options: dict[str, Any] = {"echo": settings.echo}
    if url.startswith("mysql"):
        options.update(
            pool_size=settings.pool_size,
            max_overflow=settings.pool_size,
            pool_pre_ping=True,
            pool_recycle=1800,
            isolation_level="READ COMMITTED",
        )
    options.update(overrides)
    engine = create_async_engine(url, **options)
    if engine.dialect.name == "sqlite":
        _install_sqlite_fixes(engine)
    elif statement_timeout is not None:
        _install_mysql_statement_timeout(engine, statement_timeout)
    return engine


class UnitOfWorkSession(Session):
    """A writer's session: rows it adds get their `created_at` from the unit of work's clock."""


@event.listens_for(UnitOfWorkSession, "before_flush")
def _stamp_created_at(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    clock: Clock = session.info["clock"]
    now = None
    for row in session.new:
        if hasattr(row, "created_at") and row.created_at is None:
            now = now or clock.now()
            row.created_at = now


class Database:
    """The engine plus two ways in: `read()` for queries, `transaction()` for changes, and
    the clock every "now" of the business comes from."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.dialect = engine.dialect.name
        self._reader = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        writer_engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        self._writer = async_sessionmaker(
            writer_engine,
            expire_on_commit=False,
            sync_session_class=UnitOfWorkSession,
            info={"clock": clock},
        )

    @classmethod
    def from_settings(
        cls,
        settings: DatabaseSettings,
        clock: Clock,
        statement_timeout: float | None = None,
        **overrides: Any,
    ) -> Database:
        return cls(create_engine(settings, statement_timeout, **overrides), clock)

    def now(self) -> datetime:
        return self.clock.now()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reader() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed if the block finishes, rolled back if it raises."""
        async with self._writer() as session, session.begin():
            yield session

    @asynccontextmanager
    async def named_lock(self, name: str, timeout_seconds: float) -> AsyncIterator[bool]:
        """Held by one process at a time across every server process (MariaDB/MySQL
        GET_LOCK); yields False if it could not be had in time. SQLite, the embedded
        single-process default, needs no cross-process lock: it always yields True."""
        if self.dialect != "mysql":
            yield True
            return
        async with self.engine.connect() as connection:
            got = (
                await connection.execute(
                    text("SELECT GET_LOCK(:n, :t)"), {"n": name, "t": timeout_seconds}
                )
            ).scalar()
            try:
                yield got == 1
            finally:
                if got == 1:
                    await connection.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": name})

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
