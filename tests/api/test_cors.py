"""A browser app on another origin (server.cors_origins) can call the API: the preflight
is answered before any token check, the answer carries the origin, and origins not listed
get no CORS headers (the browser then refuses to hand the answer to the page)."""

from collections.abc import AsyncIterator

import httpx
import pytest

from domain.bootstrap import Runtime
from domain.config import ConfigError, settings_from_mapping
from graph.app import build_app
from tests.helpers import Api

APP = "https://app.example.com"


@pytest.fixture
async def browser(api: Api, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_from_mapping(
        {
            "database": {"url": runtime.settings.database.url},
            "server": {"cors_origins": [APP, "http://localhost:3000"]},
        }
    )
    transport = httpx.ASGITransport(app=build_app(settings, runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_the_preflight_of_a_listed_origin_is_answered_without_a_token(
    browser: httpx.AsyncClient,
) -> None:
    preflight = await browser.options(
        "/graphql",
        headers={
            "Origin": APP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == APP
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in preflight.headers


async def test_a_listed_origin_reads_the_answer_and_others_get_no_cors_headers(
    browser: httpx.AsyncClient, api: Api
) -> None:
    token = await api.staff_token()
    query = {"query": "{ viewer { role } }"}
    headers = {"Authorization": f"Bearer {token}"}
    allowed = await browser.post("/graphql", json=query, headers={**headers, "Origin": APP})
    assert allowed.json() == {"data": {"viewer": {"role": "STAFF"}}}
    assert allowed.headers["access-control-allow-origin"] == APP
    other = await browser.post(
        "/graphql", json=query, headers={**headers, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers
    refused = await browser.options(
        "/graphql",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert refused.status_code == 400


async def test_without_cors_origins_no_origin_is_allowed(api: Api) -> None:
    preflight = await api.client.options(
        "/graphql", headers={"Origin": APP, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_an_origin_must_be_an_origin() -> None:
    with pytest.raises(ConfigError, match="server.cors_origins"):
        settings_from_mapping({"server": {"cors_origins": ["app.example.com/path"]}})
    from_env = settings_from_mapping({"server": {"cors_origins": f"{APP}, http://localhost:3000"}})
    assert from_env.server.cors_origins == [APP, "http://localhost:3000"]
