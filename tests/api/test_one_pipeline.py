"""One request pipeline for every transport: a document refused over HTTP POST is refused
the same way over GET, inside a batch and over the websocket; a batch is costed as one
request; a document is stored for APQ only once it proved valid, small enough and within
its token's quota; and an event reaches many subscriptions with one read of its invoice."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from domain.bootstrap import Runtime
from domain.config import settings_from_mapping
from domain.model.access import SYSTEM
from domain.model.commands import GenerateRequest
from domain.model.entities import PersistedDocument
from domain.services import billing
from graph.app import build_app
from tests.api.test_live_sessions import answer, send, socket
from tests.api.test_query_counts import counting
from tests.helpers import Api, make_charge, make_customer
from tests.live_server import serving

TRUSTED = "query Count { customers { totalCount } }"
UNTRUSTED = "{ __schema { types { name } } }"
TOO_WIDE = "{ viewer { customer { " + " ".join(["invoices { items { id } }"] * 490) + " } } }"


def _sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


class Transports:
    """The same document sent each way a client can send it; the error codes it gets."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token
        self.http = httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    async def codes(self, document: str) -> dict[str, list[str]]:
        post = (await self.http.post("/graphql", json={"query": document})).json()
        get = (await self.http.get("/graphql", params={"query": document})).json()
        batch = (await self.http.post("/graphql", json=[{"query": document}] * 2)).json()
        url = self.base.replace("http://", "ws://") + "/graphql"
        async with socket(url, self.token) as ws:
            await send(ws, "1", document)
            over_ws = await answer(ws)
        ws_errors = (
            over_ws["payload"] if over_ws["type"] == "error" else over_ws["payload"]["errors"]
        )
        return {
            "POST": _codes(post["errors"]),
            "GET": _codes(get["errors"]),
            "batch": [code for item in batch for code in _codes(item["errors"])],
            "websocket": _codes(ws_errors),
        }


def _codes(errors: list[dict[str, Any]]) -> list[str]:
    return [error["extensions"]["code"] for error in errors]


async def _serve(runtime: Runtime, api: Api, **graphql: Any) -> Any:
    settings = settings_from_mapping(
        {"database": {"url": runtime.settings.database.url}, "graphql": graphql}
    )
    app = build_app(settings, runtime=runtime)
    FEEDS.append(app.state.invoice_feed)
    return serving(app)


# The live feed of the server _serve made last: a test awaits it following the history
# (its first subscriber started it) rather than sleeping for it.
FEEDS: list[Any] = []


@pytest.fixture
async def strict(api: Api, runtime: Runtime, tmp_path: Path) -> AsyncIterator[Transports]:
    manifest = tmp_path / "persisted-documents.json"
    manifest.write_text(json.dumps({_sha(TRUSTED): TRUSTED}))
    async with await _serve(
        runtime, api, trusted_documents=str(manifest), only_trusted=True
    ) as base:
        transports = Transports(base, await api.staff_token())
        yield transports
        await transports.http.aclose()


async def test_only_trusted_documents_run_on_every_transport(strict: Transports) -> None:
    assert await strict.codes(UNTRUSTED) == {
        "POST": ["PERSISTED_QUERY_NOT_IN_LIST"],
        "GET": ["PERSISTED_QUERY_NOT_IN_LIST"],
        "batch": ["PERSISTED_QUERY_NOT_IN_LIST"] * 2,
        "websocket": ["PERSISTED_QUERY_NOT_IN_LIST"],
    }
    url = strict.base.replace("http://", "ws://") + "/graphql"
    async with socket(url, strict.token) as ws:
        await send(ws, "1", TRUSTED)
        assert (await answer(ws))["payload"] == {"data": {"customers": {"totalCount": 0}}}


async def test_a_document_too_wide_is_refused_alike_on_every_transport(
    api: Api, runtime: Runtime
) -> None:
    async with await _serve(runtime, api) as base:
        transports = Transports(base, await api.staff_token())
        try:
            assert await transports.codes(TOO_WIDE) == {
                "POST": ["QUERY_TOO_COMPLEX"],
                "GET": ["QUERY_TOO_COMPLEX"],
                "batch": ["QUERY_TOO_COMPLEX"] * 2,
                "websocket": ["QUERY_TOO_COMPLEX"],
            }
        finally:
            await transports.http.aclose()


def _page(name: int) -> str:
    """A page of 100 invoices with their lines and events: 7,201 values
    (graph/query_cost.py), each operation's text its own."""
    return (
        f"query Q{name} {{ invoices(perPage: 100) {{ items {{ id "
        "lines { title retailCost taxDisplay } events { kind actor } } } }"
    )


async def test_a_batch_is_costed_as_one_request(api: Api) -> None:
    headers = {"Authorization": f"Bearer {await api.staff_token()}"}
    alone = await api.client.post("/graphql", json={"query": _page(0)}, headers=headers)
    assert "errors" not in alone.json()
    # Two of them fit in the request's 20,000 values; the rest of the batch does not.
    batch = [{"query": _page(n)} for n in range(6)]
    answers = (await api.client.post("/graphql", json=batch, headers=headers)).json()
    ran = [a for a in answers if "errors" not in a]
    refused = [a for a in answers if "errors" in a]
    assert len(ran) == 2 and len(refused) == 4
    assert {_codes(a["errors"])[0] for a in refused} == {"QUERY_TOO_COMPLEX"}
    # Each request has a budget of its own: the next one runs.
    again = await api.client.post("/graphql", json={"query": _page(0)}, headers=headers)
    assert "errors" not in again.json()


async def test_a_query_asking_for_too_many_values_is_refused_before_it_runs(api: Api) -> None:
    fields = "id number total customer { name } events { kind } lines { title retailCost }"
    aliases = " ".join(
        f"a{n}: invoices(perPage: 100) {{ items {{ {fields} }} }}" for n in range(29)
    )
    errors = await api.gql_errors("{ " + aliases + " }")
    assert errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "would return about" in errors[0]["message"]
    # perPage by variable counts as sent.
    query = "query($n: Int!) { invoices(perPage: $n) { items { id lines { title } } } }"
    assert await api.gql(query, {"n": 100}) == {"invoices": {"items": []}}


async def _stored(api: Api) -> set[str]:
    async with api.db.read() as session:
        return set(await session.scalars(select(PersistedDocument.sha256)))


def _apq(document: str) -> dict[str, Any]:
    return {
        "query": document,
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": _sha(document)}},
    }


async def test_apq_stores_only_valid_documents_within_the_size_cap(api: Api) -> None:
    headers = {"Authorization": f"Bearer {await api.staff_token()}"}
    padded = "{ __typename }\n# " + "padding " * 118_000  # 950 KB: comments are no tokens
    huge = await api.client.post("/graphql", json=_apq(padded), headers=headers)
    assert huge.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_TOO_LARGE"
    padded = "{ __typename }\n# " + "padding " * 4_000  # 32 KB: runs, but is not kept
    big = await api.client.post("/graphql", json=_apq(padded), headers=headers)
    assert big.status_code == 200 and big.json() == {"data": {"__typename": "Query"}}
    invalid = await api.client.post("/graphql", json=_apq("{ noSuchField }"), headers=headers)
    assert invalid.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    too_wide = await api.client.post("/graphql", json=_apq(TOO_WIDE), headers=headers)
    assert too_wide.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    fine = await api.client.post("/graphql", json=_apq("{ viewer { role } }"), headers=headers)
    assert fine.json() == {"data": {"viewer": {"role": "STAFF"}}}
    assert await _stored(api) == {_sha("{ viewer { role } }")}


async def test_apq_keeps_a_quota_per_token_and_drops_the_least_recently_used(
    api: Api, runtime: Runtime
) -> None:
    customer = await make_customer(api.db, "Acme")
    portal = await api.customer_token(customer.id)
    staff = await api.staff_token()
    settings = settings_from_mapping(
        {
            "database": {"url": runtime.settings.database.url},
            "graphql": {"apq_documents_per_token": 2, "apq_max_documents": 3},
        }
    )
    transport = httpx.ASGITransport(app=build_app(settings, runtime=runtime))
    documents = [f"query N{n} {{ viewer {{ role }} }}" for n in range(5)]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

        async def register(document: str, token: str) -> None:
            answer = await client.post(
                "/graphql", json=_apq(document), headers={"Authorization": f"Bearer {token}"}
            )
            assert "errors" not in answer.json()

        for document in documents[:3]:
            await register(document, portal)
        # The customer's third document ran but was not kept: its quota is two.
        assert await _stored(api) == {_sha(d) for d in documents[:2]}
        await register(documents[3], staff)
        await register(documents[4], staff)  # the store is full: the oldest goes
        assert await _stored(api) == {_sha(d) for d in (documents[1], *documents[3:])}


async def test_one_event_reads_its_invoice_once_for_many_subscriptions(
    api: Api, runtime: Runtime
) -> None:
    customer = await make_customer(api.db, "Acme")
    await make_charge(api.db, customer.id)
    token = await api.staff_token()
    query = "subscription { invoiceChanged { kind invoice { id number customer { name } } } }"
    async with await _serve(runtime, api) as base:
        url = base.replace("http://", "ws://") + "/graphql"
        async with socket(url, token) as one, socket(url, token) as two:
            for ws in (one, two):
                for n in range(4):
                    await send(ws, str(n), query)
            await asyncio.wait_for(FEEDS[-1].following.wait(), 10)
            with counting(api.db) as statements:
                await billing.generate_invoice(
                    api.db, runtime.settings, SYSTEM, GenerateRequest(customer.id)
                )
                received = [await answer(ws) for ws in (one, two) for _ in range(4)]
    assert {r["payload"]["data"]["invoiceChanged"]["kind"] for r in received} == {"GENERATED"}
    names = {
        r["payload"]["data"]["invoiceChanged"]["invoice"]["customer"]["name"] for r in received
    }
    assert names == {"Acme"}
    invoice_reads = [s for s in statements if "FROM invoices" in s and "invoice_events" not in s]
    customer_reads = [s for s in statements if "FROM customers" in s]
    # Generating reads the invoice and customer too; eight subscribers add one read each.
    assert len(invoice_reads) <= 2, invoice_reads
    assert len(customer_reads) <= 3, customer_reads


async def test_a_subscription_sent_by_http_gets_a_clear_error(api: Api) -> None:
    errors = await api.gql_errors("subscription { invoiceChanged { kind } }")
    assert errors[0]["extensions"]["code"] == "BAD_REQUEST"
    assert "websocket" in errors[0]["message"]


async def test_an_apq_registration_too_large_for_a_column_is_no_server_error(api: Api) -> None:
    headers = {"Authorization": f"Bearer {await api.staff_token()}"}
    padded = "{ __typename }" + " " * 70_000  # more than MariaDB's 64 KB TEXT
    answer = await api.client.post("/graphql", json=_apq(padded), headers=headers)
    assert answer.status_code == 200 and answer.json() == {"data": {"__typename": "Query"}}
    assert await _stored(api) == set()
