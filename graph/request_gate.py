"""What every operation passes before it runs, on every transport alike (HTTP GET, POST,
a batch's operations, and each operation sent over the websocket): one schema extension,
so no transport can skip a check.

- Over a websocket, the token is looked at again: it was checked at connection_init, but
  a socket outlives that moment. A revoked or expired token's operation is refused
  (UNAUTHENTICATED) and its sockets closed (graph/live_sessions.py).
- With `graphql.only_trusted`, a document given as text runs only if it is one of the
  trusted documents (a hash was already swapped for its document by the HTTP view).
- A document registered for automatic persisted queries (its hash beside its text) is
  stored only once it parsed, validated and passed the limits (graph/persisted.py).

The limits on the document itself (depth, aliases, tokens, selections, fields, and its
cost, a batch's added up) are the next extensions in graph/schema.py; all refusals take the one
path of graph/query_budget.py's `refuse`, so their shape is the same everywhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from domain.queries.tokens import standing
from graph.live_sessions import LiveSessions
from graph.persisted import PersistedDocuments
from graph.query_budget import refuse, refused

# Tasks closing a socket from inside one of its own operations: kept until they finish.
_closing: set[asyncio.Task[None]] = set()


class RequestGate(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        state = _app_state(context)
        if state is not None:
            if isinstance(context.request, WebSocket):
                await self._token_still_stands(context, state.live_sessions)
            persisted: PersistedDocuments = state.persisted
            query = execution.query
            if (
                not refused(execution)
                and query
                and persisted.settings.only_trusted
                and not persisted.trusts(query)
            ):
                refuse(
                    execution,
                    GraphQLError(
                        "Only the trusted documents may run here; send one of them.",
                        extensions={"code": "PERSISTED_QUERY_NOT_IN_LIST"},
                    ),
                )
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        execution = self.execution_context
        if not refused(execution) and isinstance(execution.context.request, Request):
            try:
                subscription = execution.operation_type is OperationType.SUBSCRIPTION
            except RuntimeError:  # no such operation: validation says so
                subscription = False
            if subscription:
                refuse(
                    execution,
                    GraphQLError(
                        "Subscriptions run over the websocket (graphql-transport-ws on "
                        "/graphql), not over HTTP.",
                        extensions={"code": "BAD_REQUEST"},
                    ),
                )
        yield
        state = _app_state(execution.context)
        if state is None or refused(execution) or not execution.query:
            return
        if execution.operation_extensions:
            persisted: PersistedDocuments = state.persisted
            await persisted.register(
                execution.context.db,
                execution.operation_extensions,
                execution.query,
                execution.context.viewer.token_id,
            )

    async def _token_still_stands(self, context: Any, live: LiveSessions) -> None:
        token_id = context.viewer.token_id
        if token_id is None or token_id in await standing(context.db, [token_id]):
            return
        refuse(
            self.execution_context,
            GraphQLError(
                "The token was revoked or has expired.", extensions={"code": "UNAUTHENTICATED"}
            ),
        )
        task = asyncio.create_task(live.end(token_id))
        _closing.add(task)
        task.add_done_callback(_closing.discard)


def _app_state(context: Any) -> Any:
    """The app's state (its persisted documents and live sessions), where the operation came
    through the app; None for a schema run on its own."""
    request = getattr(context, "request", None)
    app = getattr(request, "app", None) if request is not None else None
    state = getattr(app, "state", None)
    return state if state is not None and hasattr(state, "persisted") else None
