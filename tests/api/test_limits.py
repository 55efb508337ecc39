"""What one request may cost: abusive documents and bodies get clear errors."""

import asyncio
import logging

import pymysql
import pytest
from graphql import GraphQLError
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from domain.adapters.clock import SystemClock
from domain.config import DatabaseSettings
from domain.store.database import Database
from graph.errors import ClientSafeErrors
from graph.schema import build_schema
from tests.conftest import _mysql_database
from tests.helpers import Api, make_customer


async def test_a_too_deep_query_is_refused(api: Api) -> None:
    nested = "customer { invoices { items { customer { invoices { items { customer { invoices { items { id } } } } } } } } }"
    errors = await api.gql_errors(f"{{ transactions {{ items {{ {nested} }} }} }}")
    assert "exceeds maximum operation depth" in errors[0]["message"]


async def test_too_many_aliases_are_refused(api: Api) -> None:
    query = "{ " + " ".join(f"a{i}: viewer {{ name }}" for i in range(31)) + " }"
    errors = await api.gql_errors(query)
    assert "aliases" in errors[0]["message"].lower()


async def test_a_too_long_document_is_refused(api: Api) -> None:
    ids = ", ".join(['"1"'] * 4100)  # tokens, but not selections: within the query budget
    query = f"query($ids: [ID!] = [{ids}]) {{ viewer {{ name }} }}"
    errors = await api.gql_errors(query)
    assert "token" in errors[0]["message"].lower()
    wide = "{ viewer { " + " ".join(["name"] * 4100) + " } }"
    errors = await api.gql_errors(wide)
    assert errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_a_reasonable_page_is_fine_and_a_huge_one_is_not(api: Api) -> None:
    await make_customer(api.db)
    ok = await api.gql(
        "{ customers(perPage: 100) { totalCount items { name contacts { email } } } }"
    )
    assert ok["customers"]["totalCount"] == 1
    errors = await api.gql_errors("{ customers(perPage: 100000) { totalCount } }")
    assert errors[0]["extensions"]["code"] == "INVALID_INPUT"


async def test_a_huge_body_gets_413_before_anything_runs(api: Api) -> None:
    token = await api.staff_token()
    padding = "x" * 1_100_000
    declared = await api.client.post(
        "/graphql",
        json={"query": "{ viewer { name } }", "variables": {"pad": padding}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert declared.status_code == 413
    assert declared.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"

    async def chunks():
        for _ in range(12):
            yield b"x" * 100_000

    streamed = await api.client.post(
        "/graphql",
        content=chunks(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413


async def test_mariadb_stops_a_statement_past_the_timeout() -> None:
    for url in _mysql_database():
        db = Database.from_settings(
            DatabaseSettings(url=url), SystemClock(), statement_timeout=0.05
        )
        try:
            with pytest.raises(OperationalError) as stopped:
                async with db.read() as session:
                    await session.execute(text("SELECT SLEEP(1)"))
            assert stopped.value.orig.args[0] == 1969
        finally:
            await db.dispose()


def test_a_stopped_statement_reaches_the_client_as_a_timeout() -> None:
    driver_error = pymysql.err.OperationalError(
        1969, "Query execution was interrupted (max_statement_time exceeded)"
    )
    wrapped = OperationalError("SELECT ...", {}, driver_error)
    error = GraphQLError("boom", path=["invoices"], original_error=wrapped)
    shown = ClientSafeErrors(10).anonymise_error(error)
    assert shown.extensions == {"code": "TIMEOUT"} and "longer than 10 s" in shown.message
    other = ClientSafeErrors(10).anonymise_error(
        GraphQLError("x", path=["a"], original_error=RuntimeError("secret SQL"))
    )
    assert other.message == "Unexpected error." and "secret" not in other.message


def test_a_database_lost_mid_request_reaches_the_client_as_unavailable() -> None:
    lost = pymysql.err.OperationalError(2013, "Lost connection to server during query")
    wrapped = OperationalError("SELECT secret FROM ...", {}, lost)
    error = GraphQLError("boom", path=["invoices"], original_error=wrapped)
    shown = ClientSafeErrors(10).anonymise_error(error)
    assert shown.extensions == {"code": "SERVICE_UNAVAILABLE"}
    assert "secret" not in shown.message and "SELECT" not in shown.message


def test_only_unexpected_errors_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    refusal = GraphQLError("Page must be 1 or more.", path=["invoices"])
    crash = GraphQLError("boom", path=["invoices"], original_error=RuntimeError("boom"))
    with caplog.at_level(logging.ERROR, logger="strawberry.execution"):
        build_schema().process_errors([refusal, crash])
    assert [record.getMessage() for record in caplog.records] == ["boom"]


HOSTILE = "{ viewer { customer { " + " ".join(["invoices { items { id } }"] * 490) + " } } }"


async def test_a_document_too_wide_to_validate_cheaply_is_refused_before_validation(
    api: Api,
) -> None:
    assert len(HOSTILE) < 13_000  # within the token, depth, alias and body limits
    errors = await api.gql_errors(HOSTILE)
    assert errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    # Fragments count as often as they are spread: ten levels of ten spreads is 10^10 fields.
    levels = ["fragment F0 on Invoice { id number }"] + [
        f"fragment F{n} on Invoice {{ " + " ".join([f"...F{n - 1}"] * 10) + " }"
        for n in range(1, 10)
    ]
    bomb = "{ invoices { items { ...F9 } } } " + " ".join(levels)
    errors = await api.gql_errors(bomb)
    assert errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_the_service_keeps_answering_while_hostile_documents_arrive(api: Api) -> None:
    token = await api.staff_token()
    flood = [api.post(HOSTILE + " " * n, token=token) for n in range(16)]
    health = api.client.get("/healthz")
    answers = await asyncio.gather(health, *flood)
    assert answers[0].status_code == 200
    assert all(
        a.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX" for a in answers[1:]
    )


async def test_metrics_labels_are_the_schemas_root_fields_whatever_the_client_names(
    api: Api,
) -> None:
    for n in range(20):
        await api.post(
            f"query {{ ...Frag{n} }} fragment Frag{n} on Query {{ viewer {{ name }} }}",
            token=await api.staff_token(),
        )
    await api.post("{ noSuchRootField }", token=await api.staff_token())
    text = (await api.client.get("/metrics")).text
    assert "Frag" not in text and "noSuchRootField" not in text
    assert 'operation="other"' in text
