"""The HTTP application: /graphql behind bearer tokens, /healthz and /metrics."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import orjson
import strawberry
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from domain.bootstrap import Runtime
from domain.config import ConfigError, Settings, load_settings
from domain.queries.tokens import authenticate
from graph.context import NOBODY, Context, Loaders
from graph.http.auth import viewer_or_refusal
from graph.http.body_limit import BodySizeLimit
from graph.http.cors import cors
from graph.http.graphiql_page import graphiql_asset, graphiql_page, refusal_page
from graph.http.health import healthz, home
from graph.http.invoice_page import (
    invoice_asset,
    invoice_page,
    invoice_page_pay,
    invoice_page_pdf,
)
from graph.http.json_body import decode_request_json
from graph.http.metrics import metrics_endpoint
from graph.http.pdfs import draft_pdf, invoice_pdf, invoice_ubl
from graph.http.stripe_webhook import stripe_webhook
from graph.http.transport import (
    json_error,
    negotiated,
    refusal,
    route_refused,
    wants_graphql_response,
)
from graph.live_sessions import LiveSessions
from graph.persisted import PersistedDocuments, PersistedQueryError
from graph.query_budget import RequestCost
from graph.schema import build_schema
from graph.subscriptions import InvoiceFeed


class GraphQLEndpoint(GraphQL):
    """Strawberry's ASGI view, answering 401 before any GraphQL runs without a valid token,
    and speaking GraphQL over HTTP as clients expect (graph/http/transport.py): queries by
    GET or POST, mutations by POST, batches up to `graphql.max_batch`, the
    graphql-response+json media type, every refusal as JSON with a code.

    GraphiQL (a browser's GET asking for HTML) is served without a token; the queries it
    sends carry the token set in its headers panel.
    """

    def __init__(
        self,
        schema: strawberry.Schema,
        graphiql: bool,
        persisted: PersistedDocuments,
        origins: list[str],
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=10,
            # A browser's socket from another page is accepted only from listed origins.
            allowed_origins=[o for o in origins if o != "*"],
        )
        self.graphiql = graphiql
        self.persisted = persisted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # Subscriptions (graphql-transport-ws); the token comes in connection_init.
            try:
                await super().__call__(scope, receive, send)
            finally:
                opened = scope.get("state", {}).get("live_session")
                if opened is not None:
                    scope["app"].state.live_sessions.closed(*opened)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
            page = graphiql_page() if self.graphiql else refusal_page()
            await page(scope, receive, send)
            return
        # The token lookup, the operation and its nested loads read through one connection.
        async with request.app.state.runtime.db.request_reads():
            response = await self._answer(request, scope)
        await response(scope, receive, send)

    async def _answer(self, request: Request, scope: Scope) -> Response:
        viewer = await viewer_or_refusal(request)
        if isinstance(viewer, Response):
            return viewer
        scope.setdefault("state", {})["viewer"] = viewer
        try:
            response = negotiated(request, await self.run(request))
        except PersistedQueryError as missing:
            # Not an HTTP failure: Apollo's PersistedQueryLink reads the code, then sends
            # the query with its hash.
            status = 400 if wants_graphql_response(request) else 200
            response = json_error(status, missing.code, missing.message)
        except HTTPException as refused:
            # Refused before GraphQL ran (a body that is not JSON, a mutation over GET, a
            # batch too large): JSON with a code, never Strawberry's plain text.
            response = refusal(request, refused)
        return response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        answer = await super().process_result(request, result)
        if result.data is None and result.errors and all(e.path is None for e in result.errors):
            # Nothing was executed (parsing, validation, variables): a request error has
            # no "data" entry at all (GraphQL over HTTP), and is a 400 where negotiated.
            answer.pop("data", None)
        return answer

    async def execute_operation(  # type: ignore[override]
        self,
        request: Request,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: Any,
        sub_response: Response,
    ) -> Any:
        db = context.runtime.db
        if isinstance(request_data, list):
            request_data = [await self.persisted.resolve(db, item) for item in request_data]
        else:
            request_data = await self.persisted.resolve(db, request_data)
        return await super().execute_operation(
            request,
            request_adapter,
            request_data,
            context,  # type: ignore[arg-type]
            root_value,
            sub_response,
        )

    def should_render_graphql_ide(self, request: Any) -> bool:
        # Decided in __call__ (a browser asking for HTML); a GET without `query` is a
        # persisted query sent by hash, not a page.
        return False

    def decode_json(self, data: str | bytes) -> object:
        return decode_request_json(data)

    def encode_json(self, data: object) -> str:
        # orjson: a page of 25 invoices in 0.01 ms where json.dumps took 0.1. Text, not
        # bytes: the socket sends what this returns, and bytes would go as binary frames.
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()

    async def get_context(self, request: Any, response: Any) -> Context:  # type: ignore[override]
        if isinstance(request, Request):
            return Context(
                request=request,
                runtime=request.app.state.runtime,
                viewer=request.state.viewer,
                request_cost=RequestCost(),
            )
        return Context(request=request, runtime=request.app.state.runtime, viewer=NOBODY)

    async def on_ws_connect(self, context: Context) -> None:  # type: ignore[override]
        """connection_init: its payload carries the token ({"Authorization": "Bearer .."})."""
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        header = str(params.get("Authorization") or params.get("authorization") or "")
        scheme, _, token = header.partition(" ")
        viewer = None
        if scheme.lower() == "bearer" and token.strip():
            viewer = await authenticate(context.db, token.strip())
        if viewer is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        socket = context.request
        assert isinstance(socket, WebSocket)
        if not socket.app.state.live_sessions.open(viewer, socket):
            # Too many sockets for this token already (graphql.ws_max_connections_per_token).
            raise ConnectionRejectionError({"code": "TOO_MANY_CONNECTIONS"})
        socket.state.live_session = (viewer, socket)
        context.viewer = viewer
        context.loaders = Loaders.create(context.runtime, viewer)


def build_app(settings: Settings, runtime: Runtime | None = None) -> Starlette:
    """The app; it opens its own runtime at startup unless one is handed in (tests)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if runtime is not None:
            yield
            return
        opened = Runtime.open(settings)
        app.state.runtime = opened
        app.state.invoice_feed = InvoiceFeed(opened.db)
        app.state.live_sessions = LiveSessions(opened.db, settings.graphql)
        # What is alive now (modules, the schema, the engines) stays alive: the cycle
        # collector's full passes leave it be. They walked all of it, about every second
        # 1000-charge invoice generated, 57 ms a time on average; 3 ms after (measured in
        # a process generating them at 1M invoices).
        gc.freeze()
        periodic = (
            asyncio.create_task(opened.periodic_jobs())
            if settings.workers.backend == "local"
            else None
        )
        try:
            yield
        finally:
            if periodic is not None:
                periodic.cancel()
                await asyncio.gather(periodic, return_exceptions=True)
            await opened.close()

    try:
        persisted = PersistedDocuments.from_settings(settings.graphql)
    except (OSError, ValueError) as error:
        raise ConfigError(f"graphql.trusted_documents: {error}") from None
    graphql = GraphQLEndpoint(
        build_schema(settings.limits, settings.graphql),
        settings.server.graphiql,
        persisted,
        settings.server.cors_origins,
    )
    app = Starlette(
        routes=[
            Route("/", home, methods=["GET"]),
            Route("/graphql", graphql, methods=["GET", "POST"], name="graphql"),
            WebSocketRoute("/graphql", graphql),
            *(
                [Route("/graphiql/{name}", graphiql_asset, methods=["GET"])]
                if settings.server.graphiql
                else []
            ),
            Route("/healthz", healthz, methods=["GET"], name="healthz"),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/crm/invoice/{invoice_id}/pdf", invoice_pdf, methods=["GET"]),
            Route("/crm/invoice/{invoice_id}/ubl", invoice_ubl, methods=["GET"]),
            Route("/crm/invoice-preview/pdf", draft_pdf, methods=["GET"]),
            Route("/webhooks/stripe", stripe_webhook, methods=["POST"]),
            Route("/i/{link}", invoice_page, methods=["GET"]),
            Route("/i/{link}/pdf", invoice_page_pdf, methods=["GET"]),
            Route("/i/{link}/pay", invoice_page_pay, methods=["POST"]),
            Route("/invoice-assets/{path:path}", invoice_asset, methods=["GET"]),
        ],
        lifespan=lifespan,
        exception_handlers={404: route_refused, 405: route_refused},
        middleware=[
            *cors(settings.server.cors_origins),
            Middleware(BodySizeLimit, max_bytes=settings.limits.max_body_bytes),
        ],
    )
    app.state.persisted = persisted
    if runtime is not None:
        app.state.runtime = runtime
        app.state.invoice_feed = InvoiceFeed(runtime.db)
        app.state.live_sessions = LiveSessions(runtime.db, settings.graphql)
    return app


def create_app() -> Starlette:
    """Factory for uvicorn (run once per worker process): settings from crm_config.yaml /
    CRM_CONFIG / the environment."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
    )
    return build_app(load_settings())
