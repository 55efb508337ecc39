"""The database: engines, reads, and the unit of work every change goes through.

Both SQLite (the embedded default) and MariaDB/MySQL are first-class (the column types that
keep money and time exact on both are in model/columns.py):
- a unit of work (`transaction()`) commits if its block finishes and rolls back if it
  raises, and stamps the `created_at` of the rows it adds from the injected clock;
- SQLite gets WAL, a busy timeout and real BEGIN statements (pysqlite's own are broken
  for SQLAlchemy), with BEGIN IMMEDIATE for writers so that two writers queue instead of
  failing with "database is locked" halfway through;
- MariaDB runs READ COMMITTED with pre-ping, and state changes lock their rows;
- reads run in autocommit on both databases (each statement sees what is committed, as
  READ COMMITTED already gave them, without a BEGIN or a ROLLBACK round trip), and every
  read of one request (`request_reads()`) goes through one connection: a GraphQL page is
  its token lookup, its page and its batched nested loads, nothing more.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
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
        if mode != AUTOCOMMIT:  # reads: each statement is its own transaction
            connection.exec_driver_sql(f"BEGIN {mode}")


AUTOCOMMIT = "AUTOCOMMIT"
# A pooled connection idle longer than this is pinged before use (a restarted server has
# dropped it); one in steady use is not: a ping per request would be a round trip more.
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool throws this connection away and checks out a fresh one.
            raise DisconnectionError() from error


def _install_mysql_statement_timeout(engine: AsyncEngine, seconds: float) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # MariaDB stops any statement running longer than this (error 1969).
        cursor.execute(f"SET SESSION max_statement_time = {float(seconds)}")
        cursor.close()


def create_engine(
    settings: DatabaseSettings,
    statement_timeout: float | None = None,
    *,
    reads: bool = False,
    **overrides: Any,
) -> AsyncEngine:
    """The engine for changes, or with `reads` the MariaDB/MySQL engine for reads: its
    connections stay in autocommit, so a read costs its statements and no ROLLBACK."""
    url = _prepare_url(settings.url)
    options: dict[str, Any] = {"echo": settings.echo}
    if url.startswith("mysql"):
        options.update(
            pool_size=settings.pool_size,
            max_overflow=settings.pool_size,
            pool_recycle=1800,
        )
        if reads:
            options.update(isolation_level=AUTOCOMMIT, skip_autocommit_rollback=True)
        else:
            options.update(pool_pre_ping=True, isolation_level="READ COMMITTED")
    options.update(overrides)
    engine = create_async_engine(url, **options)
    if engine.dialect.name == "sqlite":
        _install_sqlite_fixes(engine)
    else:
        if reads:
            _ping_when_idle(engine)
        if statement_timeout is not None:
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


@dataclass
class _RequestReads:
    """The one connection every read of a request shares, taken at its first read."""

    db: Database
    connection: AsyncConnection | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holder: asyncio.Task[Any] | None = None
    open: bool = True

    async def release(self) -> None:
        """Give the connection back now; the next read takes one again."""
        if self.connection is None or self.holder is asyncio.current_task():
            return
        async with self.lock:
            connection, self.connection = self.connection, None
            if connection is not None:
                await connection.close()


_REQUEST_READS: ContextVar[_RequestReads | None] = ContextVar("request_reads", default=None)
_WRITING: ContextVar[bool] = ContextVar("writing", default=False)


class Database:
    """The engine plus two ways in: `read()` for queries, `transaction()` for changes, and
    the clock every "now" of the business comes from."""

    def __init__(
        self, engine: AsyncEngine, clock: Clock, reader_engine: AsyncEngine | None = None
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.dialect = engine.dialect.name
        # SQLite reads share the engine (a process's own file), without BEGIN.
        self.reader_engine = reader_engine or engine.execution_options(sqlite_begin=AUTOCOMMIT)
        self._reader = async_sessionmaker(
            self.reader_engine, expire_on_commit=False, autoflush=False
        )
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
        engine = create_engine(settings, statement_timeout, **overrides)
        reader = (
            create_engine(settings, statement_timeout, reads=True, **overrides)
            if engine.dialect.name == "mysql"
            else None
        )
        return cls(engine, clock, reader)

    def now(self) -> datetime:
        return self.clock.now()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries. Within `request_reads()` it runs on the request's one
        connection (reads of concurrent resolvers take turns); elsewhere on its own."""
        async with self.read_connection() as connection:
            async with self._reader(bind=connection) as session:
                yield session

    @asynccontextmanager
    async def read_connection(self) -> AsyncIterator[AsyncConnection]:
        """The connection `read()` runs on, for Core statements whose rows need no ORM
        objects: a Session around a statement cost 0.3-0.4 ms of CPU more than the
        statement itself (the token lookup every request makes, measured at 1M invoices)."""
        shared = _REQUEST_READS.get()
        if shared is None or shared.db is not self or not shared.open or _WRITING.get():
            async with self.reader_engine.connect() as connection:
                yield connection
            return
        task = asyncio.current_task()
        if shared.holder is task and shared.connection is not None:  # a read within a read
            yield shared.connection
            return
        async with shared.lock:
            shared.holder = task
            try:
                if shared.connection is None:
                    shared.connection = await self.reader_engine.connect()
                yield shared.connection
            except DATABASE_UNAVAILABLE:
                # The connection may be broken: the next read of the request takes another.
                broken, shared.connection = shared.connection, None
                if broken is not None:
                    await broken.close()
                raise
            finally:
                shared.holder = None

    @asynccontextmanager
    async def request_reads(self) -> AsyncIterator[None]:
        """Every `read()` inside this block shares one connection, checked out at the first
        read and returned at the end: one request, one connection."""
        shared = _RequestReads(self)
        token = _REQUEST_READS.set(shared)
        try:
            yield
        finally:
            _REQUEST_READS.reset(token)
            shared.open = False  # tasks the request started read on their own from now
            await shared.release()  # once a read still running in one of them is done

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed if the block finishes, rolled back if it raises.

        A request never holds its read connection while it waits for a writer's: requests
        that each held one and waited for the other would empty the pool between them."""
        shared = _REQUEST_READS.get()
        if shared is not None and shared.db is self:
            await shared.release()
        token = _WRITING.set(True)  # reads inside the block take their own connection
        try:
            async with self._writer() as session, session.begin():
                yield session
        finally:
            _WRITING.reset(token)

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
        if self.reader_engine.sync_engine.pool is not self.engine.sync_engine.pool:
            await self.reader_engine.dispose()


# The word tables the search reads are kept by a flush hook on UnitOfWorkSession.
from domain.store import search_words as _search_words  # noqa: E402, F401
