"""CORS for browser apps on other origins (server.cors_origins), through Starlette's
CORSMiddleware: the preflight is answered before routing and before any token check.

Requests authenticate with the Authorization header, never with cookies, so credentials
stay off; the header a client needs to send (Authorization) is allowed, and the ones it
may read back (the PDF's ETag and X-Cache, the retry hint of a 429) are exposed."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware


def cors(origins: list[str]) -> list[Middleware]:
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Accept", "If-None-Match"],
            expose_headers=["ETag", "X-Cache", "Retry-After", "Content-Disposition"],
            allow_credentials=False,
            max_age=600,
        )
    ]
