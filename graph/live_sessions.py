"""Live sessions: the websockets a process holds open, by the token that opened them.

A socket is authenticated once, at connection_init, but it lives for hours and carries
queries and mutations as well as subscriptions; its token may be revoked or expire
meanwhile. So:
- every operation on a socket checks its token again before running (graph/request_gate.py);
- while any socket is open, one task per process looks at all their tokens every
  `graphql.ws_token_check_seconds` (one query, however many sockets) and closes the
  sockets of any token revoked or expired since, with 4403 — whichever process, or the
  command line, revoked it: the database every process shares is the channel;
- a token may hold at most `ws_max_connections_per_token` sockets and
  `ws_max_subscriptions_per_token` running subscriptions across them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from graphql import GraphQLError
from starlette.websockets import WebSocket, WebSocketState

from domain.config import GraphQLSettings
from domain.model.access import Viewer
from domain.queries.tokens import standing
from domain.store.database import DATABASE_UNAVAILABLE, Database

log = logging.getLogger("invoicing.live_sessions")
TOKEN_ENDED = 4403  # graphql-transport-ws's Forbidden: the client must not reconnect with it
TOKEN_ENDED_REASON = "The token was revoked or has expired"


@dataclass
class _Token:
    sockets: set[WebSocket] = field(default_factory=set)
    subscriptions: int = 0


class LiveSessions:
    def __init__(self, db: Database, settings: GraphQLSettings) -> None:
        self.db = db
        self.settings = settings
        self._tokens: dict[int, _Token] = {}
        self._watcher: asyncio.Task[None] | None = None

    def open(self, viewer: Viewer, socket: WebSocket) -> bool:
        """Register a socket whose connection_init carried this viewer's token; False when
        the token already holds as many sockets as it may."""
        if viewer.token_id is None:
            return False
        held = self._tokens.setdefault(viewer.token_id, _Token())
        if len(held.sockets) >= self.settings.ws_max_connections_per_token:
            return False
        held.sockets.add(socket)
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._watch())
        return True

    def closed(self, viewer: Viewer, socket: WebSocket) -> None:
        held = self._tokens.get(viewer.token_id or 0)
        if held is None:
            return
        held.sockets.discard(socket)
        if not held.sockets:
            del self._tokens[viewer.token_id or 0]
        if not self._tokens and self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None

    @contextmanager
    def subscription(self, viewer: Viewer) -> Iterator[None]:
        """Counts a running subscription against its token's cap for as long as it runs."""
        held = self._tokens.get(viewer.token_id or 0)
        if held is None:
            yield  # not over a socket of ours (a test calling the schema directly)
            return
        if held.subscriptions >= self.settings.ws_max_subscriptions_per_token:
            raise GraphQLError(
                f"A token may hold at most {self.settings.ws_max_subscriptions_per_token} "
                "subscriptions at once; complete one first.",
                extensions={"code": "TOO_MANY_SUBSCRIPTIONS"},
            )
        held.subscriptions += 1
        try:
            yield
        finally:
            held.subscriptions -= 1

    async def end(self, token_id: int) -> None:
        """Close every socket of a token that no longer stands."""
        held = self._tokens.pop(token_id, None)
        for socket in list(held.sockets) if held else []:
            if socket.application_state is WebSocketState.CONNECTED:
                try:
                    await socket.close(code=TOKEN_ENDED, reason=TOKEN_ENDED_REASON)
                except RuntimeError:  # the client left meanwhile
                    pass

    async def _watch(self) -> None:
        while self._tokens:
            await asyncio.sleep(self.settings.ws_token_check_seconds)
            try:
                still = await standing(self.db, list(self._tokens))
            except DATABASE_UNAVAILABLE:
                log.warning("live sessions: database unavailable; tokens checked next round")
                continue
            for token_id in [t for t in self._tokens if t not in still]:
                await self.end(token_id)
