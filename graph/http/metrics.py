"""GET /metrics: the Prometheus scrape, with the work queue's depth read fresh."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from domain.bootstrap import Runtime


async def metrics_endpoint(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    runtime.metrics.queue_depth(await runtime.work.depth())
    body, content_type = runtime.metrics.exposition()
    return Response(body, media_type=content_type)
