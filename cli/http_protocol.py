"""uvicorn's HTTP protocol with a header timeout.

uvicorn closes an idle keep-alive connection after `timeout_keep_alive`, but a connection
that never sends a request, or sends its headers a byte at a time, is held open for ever
(a thousand such connections were all still open after minutes): any byte received stops
uvicorn's timer. Here a timer of the same length starts when a connection opens and when
each request begins, and stops only when that request's headers are complete; slow bodies
and websockets (whose handshake is a complete request) are untouched.
"""

from __future__ import annotations

import asyncio

# uvicorn[standard] brings httptools, the parser uvicorn picks when it is there.
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HeaderTimeoutProtocol(HttpToolsProtocol):
    _headers_due: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._expect_headers()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._expect_headers()

    def on_headers_complete(self) -> None:
        self._headers_arrived()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_arrived()
        super().connection_lost(exc)

    def _expect_headers(self) -> None:
        self._headers_arrived()
        self._headers_due = self.loop.call_later(self.timeout_keep_alive, self._too_slow)

    def _headers_arrived(self) -> None:
        if self._headers_due is not None:
            self._headers_due.cancel()
            self._headers_due = None

    def _too_slow(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()
