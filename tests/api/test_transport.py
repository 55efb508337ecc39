"""GraphQL over HTTP the way mainstream clients speak it: queries by GET (Apollo's
useGETForQueries), batches (BatchHttpLink), the graphql-response+json media type with the
spec's status codes, and every refusal as JSON with a code."""

from collections.abc import AsyncIterator

import httpx
import pytest

from domain.bootstrap import Runtime
from domain.config import settings_from_mapping
from graph.app import build_app
from tests.helpers import Api, make_customer

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture
async def client(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    api.client.headers["Authorization"] = f"Bearer {await api.staff_token()}"
    yield api.client


async def test_a_query_may_come_by_get(client: httpx.AsyncClient, api: Api) -> None:
    await make_customer(api.db, "Acme")
    answer = await client.get(
        "/graphql",
        params={
            "query": "query($n: Int!) { customers(perPage: $n) { totalCount } }",
            "variables": '{"n": 5}',
        },
    )
    assert answer.status_code == 200
    assert answer.json() == {"data": {"customers": {"totalCount": 1}}}


async def test_a_mutation_by_get_is_405_in_json_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get(
        "/graphql",
        params={"query": 'mutation { createCustomer(input: {name: "X"}) { errors { code } } }'},
    )
    assert answer.status_code == 405 and answer.headers["allow"] == "POST"
    assert answer.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    listed = await client.post("/graphql", json={"query": "{ customers { totalCount } }"})
    assert listed.json()["data"]["customers"]["totalCount"] == 0


async def test_the_graphql_response_media_type_gets_the_specs_status_codes(
    client: httpx.AsyncClient,
) -> None:
    accept = {"Accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"}
    ok = await client.post("/graphql", json={"query": "{ viewer { role } }"}, headers=accept)
    assert ok.status_code == 200 and ok.headers["content-type"] == GRAPHQL_RESPONSE
    for broken in ("{ viewer { role }", "{ viewer { nope } }"):
        refused = await client.post("/graphql", json={"query": broken}, headers=accept)
        assert refused.status_code == 400, broken
        assert refused.headers["content-type"] == GRAPHQL_RESPONSE
        assert "data" not in refused.json() and refused.json()["errors"][0]["extensions"]["code"]
    # Plain JSON keeps the older rule: 200 for a well-formed request, still no "data".
    legacy = await client.post("/graphql", json={"query": "{ viewer { nope } }"})
    assert legacy.status_code == 200 and legacy.headers["content-type"] == "application/json"
    assert "data" not in legacy.json()


async def test_a_batch_answers_each_operation_in_order(client: httpx.AsyncClient, api: Api) -> None:
    await make_customer(api.db, "Acme")
    batch = [
        {"query": "{ customers { totalCount } }"},
        {"query": "{ viewer { role } }"},
        {"query": "{ viewer { nope } }"},
    ]
    answer = await client.post("/graphql", json=batch)
    assert answer.status_code == 200
    first, second, third = answer.json()
    assert first == {"data": {"customers": {"totalCount": 1}}}
    assert second == {"data": {"viewer": {"role": "STAFF"}}}
    assert third["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_batch_over_the_limit_or_not_of_objects_is_refused_in_json(
    client: httpx.AsyncClient, runtime: Runtime, api: Api
) -> None:
    settings = settings_from_mapping(
        {"database": {"url": runtime.settings.database.url}, "graphql": {"max_batch": 2}}
    )
    transport = httpx.ASGITransport(app=build_app(settings, runtime=runtime))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=client.headers
    ) as small:
        too_many = await small.post("/graphql", json=[{"query": "{ viewer { role } }"}] * 3)
        assert too_many.status_code == 400
        assert too_many.json()["errors"][0]["extensions"]["code"] == "BATCH_TOO_LARGE"
        two = await small.post("/graphql", json=[{"query": "{ viewer { role } }"}] * 2)
        assert two.status_code == 200 and len(two.json()) == 2
    for body in ("[1, 2]", '"query"', "[[]]"):
        refused = await client.post(
            "/graphql", content=body, headers={"Content-Type": "application/json"}
        )
        assert refused.status_code == 400, body
        assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_every_route_refuses_in_the_one_json_shape(client: httpx.AsyncClient) -> None:
    def code(answer: httpx.Response) -> str:
        return answer.json()["errors"][0]["extensions"]["code"]

    nowhere = await client.get("/no/such/route")
    assert nowhere.status_code == 404 and code(nowhere) == "NOT_FOUND"
    wrong_method = await client.delete("/graphql")
    assert wrong_method.status_code == 405 and code(wrong_method) == "METHOD_NOT_ALLOWED"
    assert "POST" in wrong_method.headers["allow"]
    pdf = await client.get("/crm/invoice/999999/pdf")
    assert pdf.status_code == 404 and code(pdf) == "NOT_FOUND"
    webhook = await client.post("/webhooks/stripe", content=b"{}")
    assert webhook.status_code in (400, 503) and code(webhook) in (
        "BAD_REQUEST",
        "SERVICE_UNAVAILABLE",
    )
