"""GraphQL over HTTP as the spec and mainstream clients expect it, around Strawberry's view:

- `Accept: application/graphql-response+json` gets that media type, with the spec's status
  codes: 400 when the request could not be executed at all (it did not parse, validate
  or coerce: no `data` in the answer), 200 once execution began. `application/json`
  (or no Accept) keeps the older rule, 200 for any well-formed request.
- Every refusal before GraphQL runs is JSON with a code, never plain text: a mutation over
  GET is 405 (with `Allow: POST`), a batch larger than `graphql.max_batch` is 400
  `BATCH_TOO_LARGE`, anything else malformed 400 `BAD_REQUEST`.
"""

from __future__ import annotations

import json

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

GRAPHQL_RESPONSE = "application/graphql-response+json"


def wants_graphql_response(request: Request) -> bool:
    """Whether the client prefers the GraphQL response media type over plain JSON."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(request.headers.get("accept", "").split(",")):
        kind, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if kind in (GRAPHQL_RESPONSE, "application/json", "application/*", "*/*"):
            ranked.append((quality, -position, kind))
    if not ranked:
        return False
    return max(ranked)[2] == GRAPHQL_RESPONSE


def error_body(code: str, message: str) -> dict[str, object]:
    # No "data" key: the request was not executed (GraphQL over HTTP, "request error").
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def json_error(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    media_type: str = "application/json",
) -> JSONResponse:
    """The one error shape of every route, GraphQL or not: {"errors": [{message,
    extensions: {code}}]}, so a client reads a refusal the same way everywhere."""
    return JSONResponse(error_body(code, message), status, headers=headers, media_type=media_type)


def refusal(request: Request, refused: HTTPException) -> Response:
    """A request refused before GraphQL ran, as JSON with a code."""
    status, reason = refused.status_code, refused.reason or "Bad request."
    headers: dict[str, str] = {}
    code = "BAD_REQUEST"
    if status == 405 or "are not allowed when using GET" in reason:
        status, code = 405, "METHOD_NOT_ALLOWED"
        headers["Allow"] = "POST" if request.method == "GET" else "GET, POST"
        if request.method == "GET":
            reason = "Mutations are sent with POST; GET carries queries only."
    elif reason == "Too many operations":
        code, reason = "BATCH_TOO_LARGE", "The batch holds more operations than allowed."
    media = GRAPHQL_RESPONSE if wants_graphql_response(request) else "application/json"
    return json_error(status, code, reason, headers, media)


def negotiated(request: Request, response: Response) -> Response:
    """The executed answer in the media type the client asked for."""
    sent_as = response.headers.get("content-type", "").split(";")[0]
    if not wants_graphql_response(request) or sent_as != "application/json":
        return response
    status = response.status_code
    try:
        body = json.loads(bytes(response.body))
    except ValueError:
        return response
    if status == 200 and isinstance(body, dict) and "data" not in body:
        status = 400  # parse, validation or variable coercion failed: nothing was executed
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    headers["content-type"] = GRAPHQL_RESPONSE
    return Response(response.body, status, headers=headers)


async def route_refused(request: Request, error: Exception) -> Response:
    """No such route (404), or not by that method (405): the same JSON shape as the rest."""
    status = getattr(error, "status_code", 404)
    if status == 405:
        allow = getattr(error, "headers", None) or {}
        return json_error(
            405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here.", dict(allow)
        )
    return json_error(404, "NOT_FOUND", f"Nothing at {request.url.path}; the API is at /graphql.")
