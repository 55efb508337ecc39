"""Persisted documents: Apollo's automatic persisted queries (hash first; on
PERSISTED_QUERY_NOT_FOUND, hash and query once; then the hash alone, by GET too, from any
process since the database keeps them), and trusted documents, the manifest a production
frontend ships with, with which nothing else runs."""

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from domain.bootstrap import Runtime
from domain.config import ConfigError, settings_from_mapping
from graph.app import build_app
from tests.helpers import Api, make_customer

QUERY = "query Count { customers { totalCount } }"
HASH = hashlib.sha256(QUERY.encode()).hexdigest()


def _persisted(digest: str = HASH) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def _code(answer: httpx.Response) -> str:
    return answer.json()["errors"][0]["extensions"]["code"]


@pytest.fixture
async def client(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    api.client.headers["Authorization"] = f"Bearer {await api.staff_token()}"
    yield api.client


async def _app(runtime: Runtime, api: Api, **graphql: object) -> httpx.AsyncClient:
    settings = settings_from_mapping(
        {"database": {"url": runtime.settings.database.url}, "graphql": graphql}
    )
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=build_app(settings, runtime=runtime)),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {await api.staff_token()}"},
    )


async def test_apq_registers_a_document_once_then_runs_it_by_hash(
    client: httpx.AsyncClient, api: Api, runtime: Runtime
) -> None:
    await make_customer(api.db, "Acme")
    unknown = await client.post("/graphql", json={"extensions": _persisted()})
    assert unknown.status_code == 200 and _code(unknown) == "PERSISTED_QUERY_NOT_FOUND"
    assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"  # Apollo's cue

    registered = await client.post("/graphql", json={"query": QUERY, "extensions": _persisted()})
    assert registered.json() == {"data": {"customers": {"totalCount": 1}}}

    by_hash = await client.post("/graphql", json={"extensions": _persisted()})
    assert by_hash.json() == {"data": {"customers": {"totalCount": 1}}}
    by_get = await client.get(
        "/graphql", params={"extensions": json.dumps(_persisted()), "operationName": "Count"}
    )
    assert by_get.json() == {"data": {"customers": {"totalCount": 1}}}
    # Another API process (a second app on the same database) knows it too.
    async with await _app(runtime, api) as other:
        elsewhere = await other.post("/graphql", json={"extensions": _persisted()})
        assert elsewhere.json() == {"data": {"customers": {"totalCount": 1}}}


async def test_a_hash_that_is_not_the_querys_registers_nothing(
    client: httpx.AsyncClient,
) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    refused = await client.post("/graphql", json={"query": QUERY, "extensions": _persisted(wrong)})
    assert _code(refused) == "PERSISTED_QUERY_HASH_MISMATCH"
    still = await client.post("/graphql", json={"extensions": _persisted(wrong)})
    assert _code(still) == "PERSISTED_QUERY_NOT_FOUND"
    garbage = await client.post("/graphql", json={"extensions": _persisted("not-a-hash")})
    assert _code(garbage) == "BAD_REQUEST"


async def test_with_graphql_response_media_type_a_missing_document_is_a_400(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post(
        "/graphql",
        json={"extensions": _persisted()},
        headers={"Accept": "application/graphql-response+json"},
    )
    assert answer.status_code == 400 and _code(answer) == "PERSISTED_QUERY_NOT_FOUND"


async def test_only_trusted_documents_run_when_so_configured(
    api: Api, runtime: Runtime, tmp_path: Path
) -> None:
    manifest = tmp_path / "persisted-documents.json"
    manifest.write_text(json.dumps({HASH: QUERY}))
    async with await _app(
        runtime, api, trusted_documents=str(manifest), only_trusted=True
    ) as strict:
        by_hash = await strict.post("/graphql", json={"extensions": _persisted()})
        assert by_hash.json() == {"data": {"customers": {"totalCount": 0}}}
        by_document_id = await strict.post("/graphql", json={"extensions": {"documentId": HASH}})
        assert by_document_id.json() == by_hash.json()
        as_text = await strict.post("/graphql", json={"query": QUERY})
        assert as_text.json() == by_hash.json()  # the trusted text itself is fine too
        other = await strict.post("/graphql", json={"query": "{ viewer { role } }"})
        assert _code(other) == "PERSISTED_QUERY_NOT_IN_LIST"
        other_hash = hashlib.sha256(b"{ viewer { role } }").hexdigest()
        registered = await strict.post(
            "/graphql", json={"query": "{ viewer { role } }", "extensions": _persisted(other_hash)}
        )
        assert _code(registered) == "PERSISTED_QUERY_NOT_IN_LIST"


def test_a_manifest_that_lies_or_is_missing_stops_the_start(tmp_path: Path) -> None:
    lying = tmp_path / "lying.json"
    lying.write_text(json.dumps({HASH: "{ viewer { role } }"}))
    for path in (lying, tmp_path / "missing.json"):
        settings = settings_from_mapping({"graphql": {"trusted_documents": str(path)}})
        with pytest.raises(ConfigError, match="graphql.trusted_documents"):
            build_app(settings)
    with pytest.raises(ConfigError, match="only_trusted"):
        settings_from_mapping({"graphql": {"only_trusted": True}})
