"""GET /metrics: the Prometheus scrape, with the work queue's depth read fresh; behind
`server.metrics_token` when it is set."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response

from domain.bootstrap import Runtime
from graph.http.auth import bearer_token, graphql_error_response


async def metrics_endpoint(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    required = runtime.settings.server.metrics_token.get_secret_value()
    if required and not secrets.compare_digest(bearer_token(request) or "", required):
        return graphql_error_response(401, "UNAUTHENTICATED", "A valid metrics token is required.")
    runtime.metrics.queue_depth(await runtime.work.depth())
    body, content_type = runtime.metrics.exposition()
    return Response(body, media_type=content_type)
