"""The database adapter: column types that keep money and time exact, engines, transactions.

Both SQLite (the embedded default) and MariaDB/MySQL are first-class:
- money and percentages are stored as integer hundredths, so they are exact on both and
  SUM/ORDER BY work in SQL (SQLite has no decimal type; its NUMERIC goes through float);
- times are stored as naive UTC and come back timezone-aware;
- SQLite gets WAL, a busy timeout and real BEGIN statements (pysqlite's own are broken
  for SQLAlchemy), with BEGIN IMMEDIATE for writers so that two writers queue instead of
  failing with "database is locked" halfway through;
- MariaDB runs READ COMMITTED with pre-ping, and state changes lock their rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, DateTime, event, text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

from domain.config import DatabaseSettings

# Raised by the driver when the database server cannot be reached or answer.
DATABASE_UNAVAILABLE = (OperationalError, DBAPIError, OSError, TimeoutError)


class Hundredths(TypeDecorator[Decimal]):
    """A Decimal with at most two fraction digits, stored as an integer count of hundredths."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value).scaleb(2)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than two fraction digits")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        # SUM() comes back as int (SQLite) or Decimal (MariaDB); both are exact.
        return Decimal(int(value)).scaleb(-2)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime, stored naive (neither SQLite nor DATETIME keep zones)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


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


class Database:
    """The engine plus two ways in: `read()` for queries, `transaction()` for changes."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._reader = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        writer_engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        self._writer = async_sessionmaker(writer_engine, expire_on_commit=False)

    @classmethod
    def from_settings(
        cls, settings: DatabaseSettings, statement_timeout: float | None = None, **overrides: Any
    ) -> Database:
        return cls(create_engine(settings, statement_timeout, **overrides))

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
