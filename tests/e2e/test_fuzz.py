"""A bounded fuzz of every query and mutation over HTTP against `invoicing serve`, as staff
and as a customer (tests/fuzz.py says what each answer must be). bench/fuzz.py runs
the same for longer."""

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from tests.conftest import _mysql_database
from tests.fuzz import FuzzTarget, fuzz_server, operations, others_data, server_failures

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


def _send(fuzzed: tuple[httpx.Client, FuzzTarget], query: str, as_customer: bool) -> httpx.Response:
    client, target = fuzzed
    token = target.customer_token if as_customer else target.staff_token
    return client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )


@BOUNDED
@given(query=operations("query"))
def test_fuzzed_queries_as_staff_are_answered_never_failed(fuzzed, query: str) -> None:
    answer = _send(fuzzed, query, as_customer=False)
    assert server_failures(answer) == [], f"{query}\n=> {answer.text}"


@BOUNDED
@given(query=operations("query"))
def test_fuzzed_queries_as_a_customer_are_answered_and_show_only_its_own_data(
    fuzzed, query: str
) -> None:
    answer = _send(fuzzed, query, as_customer=True)
    assert server_failures(answer) == [], f"{query}\n=> {answer.text}"
    assert others_data(answer) == [], f"{query}\n=> {answer.text}"


@BOUNDED
@given(mutation=operations("mutation"))
def test_fuzzed_mutations_as_a_customer_are_answered_and_show_only_its_own_data(
    fuzzed, mutation: str
) -> None:
    answer = _send(fuzzed, mutation, as_customer=True)
    assert server_failures(answer) == [], f"{mutation}\n=> {answer.text}"
    assert others_data(answer) == [], f"{mutation}\n=> {answer.text}"


@BOUNDED
@given(mutation=operations("mutation"))
def test_fuzzed_mutations_as_staff_are_answered_never_failed(fuzzed, mutation: str) -> None:
    answer = _send(fuzzed, mutation, as_customer=False)
    assert server_failures(answer) == [], f"{mutation}\n=> {answer.text}"
