import httpx

from domain.bootstrap import Runtime
from domain.config import settings_from_mapping
from graph.app import build_app
from tests.helpers import Api


async def test_healthz_and_graphql_answer_503_while_the_database_is_down() -> None:
    settings = settings_from_mapping(
        {"database": {"url": "mysql+asyncmy://root@127.0.0.1:1/nothing"}}
    )
    runtime = Runtime.open(settings)
    transport = httpx.ASGITransport(app=build_app(settings, runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        health = await client.get("/healthz")
        assert health.status_code == 503 and health.json() == {"status": "unavailable"}
        query = await client.post(
            "/graphql",
            json={"query": "{ viewer { role } }"},
            headers={"Authorization": "Bearer inv_x"},
        )
        assert query.status_code == 503
        assert query.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "Traceback" not in query.text
    await runtime.close()


async def test_healthz_answers_ok_when_the_database_answers(api: Api) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}


async def test_the_root_points_a_newcomer_to_the_graphql_endpoint(api: Api) -> None:
    as_json = await api.client.get("/")
    assert as_json.status_code == 200
    assert as_json.json() == {
        "graphql": "http://testserver/graphql",
        "health": "http://testserver/healthz",
    }
    in_browser = await api.client.get("/", headers={"Accept": "text/html,*/*"})
    assert in_browser.status_code == 200
    assert '<a href="http://testserver/graphql">' in in_browser.text
