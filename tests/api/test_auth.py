from datetime import UTC, datetime, timedelta

from domain.model.enums import Role
from domain.model.tokens import hash_token
from domain.services.tokens import mint_token, revoke_token
from tests.helpers import Api, make_customer, snapshot

VIEWER = "{ viewer { role name customer { name } } }"


async def test_a_request_without_a_token_gets_401_unauthenticated(api: Api) -> None:
    response = await api.post(VIEWER)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_bad_or_malformed_token_gets_401(api: Api) -> None:
    for header in ("Bearer inv_nope", "Bearer nope", "Basic dXNlcjpwYXNz", "Bearer "):
        response = await api.client.post(
            "/graphql", json={"query": VIEWER}, headers={"Authorization": header}
        )
        assert response.status_code == 401, header
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_revoked_token_stops_working(api: Api) -> None:
    minted = await mint_token(api.db, Role.STAFF, "leaver")
    assert (await api.post(VIEWER, token=minted.token)).status_code == 200
    await revoke_token(api.db, token_id=minted.id)
    assert (await api.post(VIEWER, token=minted.token)).status_code == 401


async def test_a_token_with_an_expiry_stops_working_when_it_expires(api: Api, clock) -> None:
    clock.pin(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    minted = await mint_token(api.db, Role.STAFF, "contractor", expires_in=timedelta(days=30))
    assert minted.expires_at == datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    clock.pin(datetime(2026, 3, 31, 11, 59, tzinfo=UTC))
    assert (await api.post(VIEWER, token=minted.token)).status_code == 200
    clock.pin(datetime(2026, 3, 31, 12, 0, tzinfo=UTC))
    expired = await api.post(VIEWER, token=minted.token)
    assert expired.status_code == 401
    assert expired.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_tokens_are_stored_only_as_hashes(api: Api) -> None:
    minted = await mint_token(api.db, Role.STAFF, "ops")
    stored = str(await snapshot(api.db))
    assert minted.token not in stored
    assert hash_token(minted.token) in stored


async def test_viewer_tells_the_role_and_the_customer(api: Api) -> None:
    customer = await make_customer(api.db, "Globex")
    staff = await api.gql(VIEWER)
    assert staff["viewer"] == {"role": "STAFF", "name": "test staff", "customer": None}
    portal = await api.gql(VIEWER, token=await api.customer_token(customer.id))
    assert portal["viewer"] == {
        "role": "CUSTOMER",
        "name": f"portal {customer.id}",
        "customer": {"name": "Globex"},
    }


async def test_healthz_answers_without_a_token(api: Api) -> None:
    response = await api.client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_a_browser_is_told_graphiql_is_off_by_default(api: Api) -> None:
    # On (server.graphiql, as make run sets it), tests/e2e/test_graphiql.py opens it.
    response = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 404 and "server.graphiql" in response.text


async def test_malformed_requests_get_graphql_errors_not_500(api: Api) -> None:
    token = await api.staff_token()
    syntax = await api.post("{ viewer { role ", token=token)
    assert syntax.status_code == 200 and "Syntax Error" in syntax.json()["errors"][0]["message"]
    unknown = await api.post("{ nothing }", token=token)
    assert "Cannot query field 'nothing'" in unknown.json()["errors"][0]["message"]
    not_json = await api.client.post(
        "/graphql",
        content=b"{oops",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert not_json.status_code == 400
