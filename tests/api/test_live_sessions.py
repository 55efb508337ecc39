"""A websocket lives no longer than its token: every operation on it checks the token
again, a revoked or expired token's sockets are closed (4403) within seconds, whichever
process revoked it; and one token holds only so many sockets and subscriptions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
import websockets
from sqlalchemy import func, select

from domain.bootstrap import Runtime
from domain.config import settings_from_mapping
from domain.model.access import SYSTEM
from domain.model.commands import GenerateRequest
from domain.model.entities import Product
from domain.model.enums import Role
from domain.services import billing
from domain.services.tokens import mint_token, revoke_token
from graph.app import build_app
from tests.helpers import Api, make_charge, make_customer
from tests.live_server import serving

SUBSCRIBE = "subscription { invoiceChanged { sequence kind invoice { id number } } }"
CREATE_PRODUCT = """mutation { createProduct(input: {name: "Sneaky", retailCost: "1.00",
  taxPercentage: "10"}) { product { id } errors { code } } }"""


@asynccontextmanager
async def server(runtime: Runtime, **graphql: Any) -> AsyncIterator[str]:
    settings = settings_from_mapping(
        {"database": {"url": runtime.settings.database.url}, "graphql": graphql}
    )
    app = build_app(settings, runtime=runtime)
    async with serving(app) as base:
        url = base.replace("http://", "ws://") + "/graphql"
        FEEDS[url] = app.state.invoice_feed
        try:
            yield url
        finally:
            del FEEDS[url]


# The live feed of each server, by its address: a test awaits the feed following the
# history (its first subscriber started it) rather than sleeping for it.
FEEDS: dict[str, Any] = {}


@asynccontextmanager
async def socket(url: str, token: str) -> AsyncIterator[Any]:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        yield ws


async def send(ws: Any, op_id: str, query: str) -> None:
    await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query}}))


async def answer(ws: Any) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def closed_with(ws: Any, within: float) -> int | None:
    """The close code the server ends the socket with, or None if it is still open."""
    try:
        async with asyncio.timeout(within):
            async for _ in ws:
                pass
    except TimeoutError:
        return None
    except websockets.ConnectionClosed:
        pass
    return ws.close_code


async def _an_invoice(db: Any, runtime: Runtime) -> None:
    customer = await make_customer(db, "Acme")
    await make_charge(db, customer.id)
    await billing.generate_invoice(db, runtime.settings, SYSTEM, GenerateRequest(customer.id))


async def test_a_subscription_ends_within_seconds_of_its_token_being_revoked(
    api: Api, runtime: Runtime
) -> None:
    minted = await mint_token(api.db, Role.STAFF, "dashboard")
    async with server(runtime, ws_token_check_seconds=0.2) as url:
        async with socket(url, minted.token) as ws:
            await send(ws, "1", SUBSCRIBE)
            await asyncio.wait_for(FEEDS[url].following.wait(), 10)
            await _an_invoice(api.db, runtime)
            first = await answer(ws)
            assert first["type"] == "next" and first["payload"]["data"]["invoiceChanged"]
            await revoke_token(api.db, token_id=minted.id)  # as `invoicing token revoke` does
            assert await closed_with(ws, within=3) == 4403
    async with server(runtime) as url:
        with pytest.raises(websockets.ConnectionClosed) as refused:
            async with socket(url, minted.token):
                pass
        assert refused.value.rcvd is not None and refused.value.rcvd.code == 4403


async def test_an_expired_token_closes_the_socket_it_opened(api: Api, runtime: Runtime) -> None:
    minted = await mint_token(api.db, Role.STAFF, "short", expires_in=timedelta(seconds=1))
    async with server(runtime, ws_token_check_seconds=0.2) as url:
        async with socket(url, minted.token) as ws:
            await send(ws, "1", SUBSCRIBE)
            assert await closed_with(ws, within=4) == 4403


async def test_a_mutation_sent_after_revocation_changes_nothing(api: Api, runtime: Runtime) -> None:
    minted = await mint_token(api.db, Role.STAFF, "script")
    # The periodic check is far away: the operation itself must notice.
    async with server(runtime, ws_token_check_seconds=60) as url:
        async with socket(url, minted.token) as ws:
            await send(ws, "1", "{ viewer { role } }")
            assert (await answer(ws))["payload"]["data"] == {"viewer": {"role": "STAFF"}}
            await answer(ws)  # complete
            await revoke_token(api.db, token_id=minted.id)
            await send(ws, "2", CREATE_PRODUCT)
            refused = await answer(ws)
            assert refused["type"] == "error"
            assert refused["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            assert await closed_with(ws, within=3) == 4403
    async with api.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Product)) == 0


async def test_a_token_holds_only_so_many_sockets_and_subscriptions(
    api: Api, runtime: Runtime
) -> None:
    customer = await make_customer(api.db, "Acme")
    token = await api.customer_token(customer.id)
    async with server(
        runtime, ws_max_connections_per_token=2, ws_max_subscriptions_per_token=3
    ) as url:
        async with socket(url, token) as one, socket(url, token) as two:
            with pytest.raises(websockets.ConnectionClosed):
                async with socket(url, token):
                    pass
            for n in range(1, 3):
                await send(one, str(n), SUBSCRIBE)
            await send(two, "1", SUBSCRIBE)
            await send(two, "2", SUBSCRIBE)  # the fourth of this token
            # Which of the four started last is up to the scheduler: one of them is refused.
            refusals = []
            for ws in (one, two):
                try:
                    while True:
                        refusals.append(json.loads(await asyncio.wait_for(ws.recv(), 1.5)))
                except TimeoutError:
                    pass
            errors = [
                error
                for message in refusals
                if message["type"] in ("next", "error")
                for error in (
                    message["payload"]
                    if message["type"] == "error"
                    else message["payload"].get("errors", [])
                )
            ]
            assert [e["extensions"]["code"] for e in errors] == ["TOO_MANY_SUBSCRIPTIONS"]
        # Sockets closed give their places back.
        async with socket(url, token) as again:
            await send(again, "1", "{ viewer { role } }")
            assert (await answer(again))["payload"]["data"] == {"viewer": {"role": "CUSTOMER"}}
