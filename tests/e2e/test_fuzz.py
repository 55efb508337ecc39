"""A bounded fuzz of every query and mutation over HTTP against `invoicing serve`, as staff
and as a customer (tests/fuzz.py says what each answer must be). bench/fuzz.py runs
the same for longer."""

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from domain.config import settings_from_mapping
from domain.db import Database
from tests.conftest import TEMPLATES, _mysql_database
from tests.consistency import assert_consistent
from tests.e2e.processes import start_server, stop
from tests.fuzz import FuzzTarget, check_answer, operations, prepare

EXAMPLES = 120
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the suite replays the same inputs; bench/fuzz.py explores
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, FuzzTarget, str]]:
    folder = tmp_path_factory.mktemp("fuzz")
    databases = (
        iter([f"sqlite+aiosqlite:///{folder / 'fuzz.db'}"])
        if request.param == "sqlite"
        else _mysql_database()
    )
    url = next(databases)
    try:
        target = asyncio.run(prepare(url, folder / "outbox"))
        config = folder / "crm.yaml"
        config.write_text(
            f"invoice:\n  template_dir: {TEMPLATES}\n  render_workers: 1\n"
            f"email:\n  backend: outbox\n  outbox_dir: {folder / 'outbox'}\n"
        )
        env = {"DATABASE_URL": url, "CRM_CONFIG": str(config)}
        process, base = start_server(env, folder / "server.log")
        try:
            with httpx.Client(base_url=base, timeout=60) as client:
                yield client, target, url
        finally:
            stop(process)
        database = Database.from_settings(
            settings_from_mapping({"database": {"url": url}}).database
        )

        async def consistent() -> None:
            try:
                await assert_consistent(database)
            finally:
                await database.dispose()

        asyncio.run(consistent())
    finally:
        for _ in databases:  # drops the MariaDB database
            pass


def _send(fuzzed: tuple[httpx.Client, FuzzTarget, str], query: str, as_customer: bool) -> None:
    client, target, _ = fuzzed
    token = target.customer_token if as_customer else target.staff_token
    response = client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )
    check_answer(query, response, as_customer=as_customer)


@BOUNDED
@given(query=operations("query"))
def test_fuzzed_queries_as_staff(fuzzed, query: str) -> None:
    _send(fuzzed, query, as_customer=False)


@BOUNDED
@given(query=operations("query"))
def test_fuzzed_queries_as_a_customer(fuzzed, query: str) -> None:
    _send(fuzzed, query, as_customer=True)


@BOUNDED
@given(mutation=operations("mutation"))
def test_fuzzed_mutations_as_a_customer(fuzzed, mutation: str) -> None:
    _send(fuzzed, mutation, as_customer=True)


@BOUNDED
@given(mutation=operations("mutation"))
def test_fuzzed_mutations_as_staff(fuzzed, mutation: str) -> None:
    _send(fuzzed, mutation, as_customer=False)
