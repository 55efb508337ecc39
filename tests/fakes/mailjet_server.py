"""A Mailjet Send API v3.1 stand-in on 127.0.0.1, with Mailjet's answers and error bodies.
It keeps what it was sent, so tests can read the recipients, variables and attachment."""

from __future__ import annotations

import base64
import json
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes._http import JsonHandler, LocalServer

KEY, SECRET = "mj-test-key", "mj-test-secret"


class FakeMailjet:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.reject_with: str | None = None  # a per-message error, as v3.1 reports them
        self._server = LocalServer(self._handler())
        self.url = self._server.url + "/"

    def close(self) -> None:
        self._server.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                body = json.loads(
                    self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}"
                )
                expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
                if self.path.rstrip("/") != "/v3.1/send":
                    return self.answer(404, {"ErrorMessage": "Not found"})
                if self.headers.get("Authorization") != expected:
                    return self.answer(
                        401,
                        {
                            "ErrorIdentifier": str(uuid.uuid4()),
                            "StatusCode": 401,
                            "ErrorMessage": "API key authentication/authorization failure. You may be unauthorized to access the API or your API key may be expired. Visit API keys management section to check your keys.",
                        },
                    )
                if fake.reject_with:
                    return self.answer(
                        400,
                        {
                            "Messages": [
                                {
                                    "Status": "error",
                                    "Errors": [
                                        {
                                            "ErrorIdentifier": str(uuid.uuid4()),
                                            "StatusCode": 400,
                                            "ErrorCode": "send-0003",
                                            "ErrorMessage": fake.reject_with,
                                        }
                                    ],
                                }
                            ]
                        },
                    )
                fake.sent.extend(body.get("Messages", []))
                answers = [
                    {
                        "Status": "success",
                        "To": [
                            {
                                "Email": to["Email"],
                                "MessageUUID": str(uuid.uuid4()),
                                "MessageID": 1000 + i,
                            }
                            for i, to in enumerate(message.get("To", []))
                        ],
                    }
                    for message in body.get("Messages", [])
                ]
                return self.answer(200, {"Messages": answers})

        return Handler
