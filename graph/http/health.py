"""GET /healthz: 200 once the database answers, 503 otherwise; GET /: where the API is."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from domain.store.database import DATABASE_UNAVAILABLE


async def healthz(request: Request) -> JSONResponse:
    try:
        await request.app.state.runtime.db.ping()
    except DATABASE_UNAVAILABLE:
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


async def home(request: Request) -> Response:
    """`/` says where the API is: a page with a link for a browser, JSON for anything else."""
    graphql = str(request.url_for("graphql"))
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(
            "<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Invoicing API</title>"
            f'<p>The invoicing API is at <a href="{escape(graphql)}">{escape(graphql)}</a> '
            "(GraphiQL in a browser; send <code>Authorization: Bearer &lt;token&gt;</code>)."
            '<p>Health: <a href="/healthz">/healthz</a></p></html>'
        )
    return JSONResponse({"graphql": graphql, "health": str(request.url_for("healthz"))})
