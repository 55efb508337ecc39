"""An integrator's webhook endpoint on 127.0.0.1: keeps every request it gets (headers,
raw body, when) and answers with the statuses it is told to, one per request, then 200."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes._http import JsonHandler, LocalServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._statuses: list[int] = []
        self.arrived = 0  # requests begun, answered or not
        self.hang_seconds = 0.0  # answer this late (a stuck endpoint) ...
        self.hang_requests = 10**9  # ... the next this many requests
        self._lock = threading.Lock()
        self._server = LocalServer(self._handler())
        self.url = self._server.url + "/hooks"

    def answer_with(self, statuses: Iterable[int]) -> None:
        with self._lock:
            self._statuses = list(statuses)

    def events(self) -> list[dict[str, Any]]:
        """The bodies of the requests it answered 2xx, in arrival order."""
        return [r.json() for r in self.received if 200 <= r.status < 300]

    def wait_for(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.events()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.events()

    def close(self) -> None:
        self._server.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with fake._lock:
                    fake.arrived += 1
                    hang = fake.hang_seconds if fake.hang_requests > 0 else 0
                    fake.hang_requests -= 1
                if hang:
                    time.sleep(hang)
                with fake._lock:
                    status = fake._statuses.pop(0) if fake._statuses else 200
                    fake.received.append(
                        Received(self.path, dict(self.headers.items()), body, status)
                    )
                self.answer(status, {"received": status < 300})

        return Handler
