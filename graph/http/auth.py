"""Bearer-token authentication shared by every protected route."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from domain.bootstrap import Runtime
from domain.model.access import Viewer
from domain.queries.tokens import authenticate
from domain.store.database import DATABASE_UNAVAILABLE
from graph.http.transport import json_error

log = logging.getLogger("invoicing.http")


def graphql_error_response(status: int, code: str, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return json_error(status, code, message, headers)


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def viewer_or_refusal(request: Request) -> Viewer | JSONResponse:
    """The request's viewer, or the 401/503 answer to send instead."""
    runtime: Runtime = request.app.state.runtime
    token = bearer_token(request)
    try:
        viewer = await authenticate(runtime.db, token) if token else None
    except DATABASE_UNAVAILABLE:
        log.exception("database unavailable while authenticating")
        return graphql_error_response(
            503, "SERVICE_UNAVAILABLE", "The database is unavailable; try again shortly."
        )
    if viewer is None:
        message = (
            "A valid bearer token is required."
            if token is None
            else "The bearer token is not valid."
        )
        return graphql_error_response(401, "UNAUTHENTICATED", message)
    return viewer
