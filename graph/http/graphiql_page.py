"""GraphiQL served by the product itself (server.graphiql): its scripts and styles are
vendored under graph/http/graphiql/ (GraphiQL 3.9, React 18, see LICENSES.txt), so it
works on a machine without internet; start.js asks for the bearer token once, keeps it in
the browser, and starts GraphiQL (and its schema fetch) only with a token that works."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from graph.http.transport import json_error

ASSETS = Path(__file__).resolve().parent / "graphiql"
FILES = {
    "graphiql.min.js": "text/javascript",
    "graphiql.min.css": "text/css",
    "react.production.min.js": "text/javascript",
    "react-dom.production.min.js": "text/javascript",
    "start.js": "text/javascript",
}

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Invoicing API · GraphiQL</title>
<link rel="stylesheet" href="/graphiql/graphiql.min.css">
<style>
  body { margin: 0; height: 100vh; font-family: system-ui, sans-serif; }
  #graphiql { height: 100vh; }
  #token-form { max-width: 34rem; margin: 12vh auto; padding: 2rem; border: 1px solid #ddd;
                border-radius: 8px; }
  #token-form input { width: 100%; padding: .5rem; font-family: monospace; box-sizing: border-box; }
  #token-form button { margin-top: .8rem; padding: .5rem 1.2rem; }
  #token-problem { color: #b00020; }
  .sign-out { font-size: .8rem; padding: .3rem; }
</style>
</head>
<body>
<form id="token-form" hidden>
  <h1>Invoicing API</h1>
  <label for="token">Bearer token</label>
  <input id="token" name="token" type="password" autocomplete="off" required
         placeholder="inv_...">
  <p>The token <code>make run</code> printed, or one from
     <code>invoicing token create --role staff</code>. It is kept in this browser until you
     choose "Forget token".</p>
  <p id="token-problem" role="alert"></p>
  <button type="submit">Open GraphiQL</button>
</form>
<div id="graphiql"></div>
<script src="/graphiql/react.production.min.js"></script>
<script src="/graphiql/react-dom.production.min.js"></script>
<script src="/graphiql/graphiql.min.js"></script>
<script src="/graphiql/start.js"></script>
</body>
</html>
"""


def graphiql_page() -> HTMLResponse:
    return HTMLResponse(PAGE, headers={"Cache-Control": "no-store"})


async def graphiql_asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in FILES:
        return json_error(404, "NOT_FOUND", "Not found.")
    return FileResponse(
        ASSETS / name, media_type=FILES[name], headers={"Cache-Control": "public, max-age=3600"}
    )


def refusal_page() -> HTMLResponse:
    """A browser opening /graphql where GraphiQL is off: say so, and how to turn it on."""
    return HTMLResponse(
        "<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Invoicing API</title>"
        "<p>This is the invoicing GraphQL API: send POST requests with "
        "<code>Authorization: Bearer &lt;token&gt;</code>. GraphiQL is turned off here "
        "(<code>server.graphiql</code>, or <code>GRAPHIQL=true</code>).</p></html>",
        status_code=404,
        headers={"Cache-Control": "no-store"},
    )
