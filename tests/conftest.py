"""Shared fixtures: a migrated database per backend, emptied before each test, and an
HTTP client speaking to the real ASGI app.

Every test that takes `db` (directly or through `client`) runs once on SQLite and once on
MariaDB (127.0.0.1:3306, root, no password; a fresh `invoicing_test_<random>` database
dropped afterwards). Without a reachable MariaDB those runs skip, unless REQUIRE_MYSQL=1,
under which they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pymysql
import pytest
from sqlalchemy import delete

from domain.adapters.weasyprint_pool import WeasyPrintPool
from domain.bootstrap import Runtime
from domain.config import Settings, settings_from_mapping
from domain.model.entities import Base
from domain.ops.migrations import upgrade_async
from domain.store.database import Database
from graph.app import build_app
from tests.fakes.clock import PinnableClock
from tests.fakes.stripe_server import FakeStripe
from tests.helpers import Api

MYSQL = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "invoice_templates"


def _mysql_database() -> Iterator[str]:
    name = f"invoicing_test_{secrets.token_hex(4)}"
    try:
        admin = pymysql.connect(**MYSQL, connect_timeout=3)
    except pymysql.err.OperationalError as exc:
        if os.environ.get("REQUIRE_MYSQL") == "1":
            pytest.fail(f"MariaDB at 127.0.0.1:3306 is required (REQUIRE_MYSQL=1): {exc}")
        pytest.skip(f"MariaDB at 127.0.0.1:3306 is not reachable: {exc}")
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        yield f"mysql+asyncmy://root@127.0.0.1:3306/{name}?charset=utf8mb4"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()


@pytest.fixture(scope="session", params=["sqlite", "mariadb"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "invoicing.db"
        yield f"sqlite+aiosqlite:///{path}"
    else:
        yield from _mysql_database()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return settings_from_mapping(
        {
            "database": {"url": database_url},
            "server": {"public_url": "https://crm.example.test"},
            "business": {"timezone": "UTC"},
            # Background renders are tested on their own; elsewhere they would race the
            # per-test cleanup.
            "invoice": {
                "template_dir": str(TEMPLATES),
                "pdf_cache": {"prerender_on_generate": False},
            },
            # The tests' webhook receivers listen on 127.0.0.1; the guard has tests of its own.
            "webhooks": {"allow_private_targets": True, "timeout_seconds": 2},
        }
    )


@pytest.fixture(scope="session")
def session_clock() -> PinnableClock:
    return PinnableClock()


@pytest.fixture
def clock(session_clock: PinnableClock) -> Iterator[PinnableClock]:
    """The runtime's clock, for a test to pin; it runs free again after the test."""
    yield session_clock
    session_clock.unpin()


@pytest.fixture(scope="session")
async def runtime(settings: Settings, session_clock: PinnableClock) -> AsyncIterator[Runtime]:
    await upgrade_async(settings.database.url)
    opened = Runtime.open(settings, clock=session_clock)
    yield opened
    await opened.close()


@pytest.fixture(scope="module")
def stripe_fake() -> Iterator[FakeStripe]:
    """A local server answering like Stripe, for the real stripe client to talk to."""
    fake = FakeStripe()
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def pdf_renderer() -> Iterator[WeasyPrintPool]:
    """Render workers for tests that need no database."""
    renderer = WeasyPrintPool(workers=2)
    yield renderer
    renderer.close()


@pytest.fixture
async def db(runtime: Runtime) -> Database:
    """The test's database, empty."""
    async with runtime.db.transaction() as session:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "deployment":  # the installation's identity, not data
                await session.execute(delete(table))
    return runtime.db


@pytest.fixture
async def api(db: Database, runtime: Runtime) -> AsyncIterator[Api]:
    app = build_app(runtime.settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        ready = Api(client, db)
        await ready.staff_token()  # minted up front, so snapshots taken in tests include it
        yield ready
