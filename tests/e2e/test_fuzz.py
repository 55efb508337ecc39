"""A bounded fuzz of every query and mutation over HTTP against `invoicing serve`, as staff
and as a customer (tests/fuzz.py says what each answer must be). bench/fuzz.py runs
the same for longer."""

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from tests.conftest import _mysql_database
from tests.fuzz import FuzzTarget, check_answer, fuzz_server, operations

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
) -> Iterator[tuple[httpx.Client, FuzzTarget]]:
    folder = tmp_path_factory.mktemp("fuzz")
    if request.param == "sqlite":
        with fuzz_server(f"sqlite+aiosqlite:///{folder / 'fuzz.db'}", folder) as served:
            yield served
        return
    for url in _mysql_database():
        with fuzz_server(url, folder) as served:
            yield served


def _send(fuzzed: tuple[httpx.Client, FuzzTarget], query: str, as_customer: bool) -> None:
    client, target = fuzzed
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
