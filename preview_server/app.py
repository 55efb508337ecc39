"""The template preview dev server: a page listing templates x fixtures, each combination
at a stable address as a page, as HTML and as PDF, updated live as files change.

    /                                   the page (first combination)
    /preview/{template}/{fixture}       the page for one combination (?lang=es)
    /preview/{template}/{fixture}.html  the rendered HTML alone (422 + error when broken)
    /preview/{template}/{fixture}.pdf   the PDF (X-Cache: HIT|MISS), same renderer as production
    /lint/{template}/{fixture}          what the template uses and the data lacks, remote URLs
    /email/{fixture}                    the invoice email's HTML part (?lang=es, ?part=text;
                                        ?reminder=7: its reminder 7 days after the due date)
    /einvoice/{fixture}                 the EN 16931 rules its CII and UBL e-invoices break
    /templates/{path}                   template assets (CSS, images) for the HTML view
    /events                             server-sent events: which files changed
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from html import escape
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from watchfiles import awatch

from domain.bootstrap import open_einvoice_rules, open_renderer
from domain.config import Settings
from domain.model.countries import country_codes
from preview_server.page import page_html
from preview_server.workspace import PreviewError, Workspace

log = logging.getLogger("invoicing.preview")


class ChangeFeed:
    """Fans file-change notices out to every open page."""

    def __init__(self) -> None:
        self.listeners: set[asyncio.Queue[str]] = set()

    def publish(self, message: str) -> None:
        for queue in self.listeners:
            queue.put_nowait(message)

    async def stream(self, request: Request) -> AsyncIterator[str]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self.listeners.add(queue)
        try:
            yield "retry: 500\nevent: hello\ndata: {}\n\n"
            while not await request.is_disconnected():
                try:
                    message = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: change\ndata: {message}\n\n"
        finally:
            self.listeners.discard(queue)


def _screen_head(request: Request) -> str:
    """For the browser only: assets from /templates/, and the page laid out at A4 width.
    The base is absolute: the page is shown in an iframe's srcdoc, where Chromium does
    not resolve a relative <base> against the parent's address."""
    base = escape(f"{str(request.base_url).rstrip('/')}/templates/")
    return (
        f'<head><base href="{base}">'
        "<style>@media screen { body { width: 190mm; margin: 8px auto; } }</style>"
    )


def _error(error: PreviewError) -> Response:
    return JSONResponse({"error": error.as_dict()}, status_code=error.status)


class QuietStop:
    """Ctrl+C: uvicorn gives open requests a moment, then cancels them (the live-update
    stream never ends by itself). A request cancelled so ends quietly, not as a traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except asyncio.CancelledError:
            if scope["type"] != "http":
                raise
            log.info("request %s cut short: the server is stopping", scope.get("path"))
            if not started:
                await PlainTextResponse("The preview server is stopping.", 503)(
                    scope, receive, send
                )


DEFAULT_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
TOKEN_COOKIE = "preview_token"


class RequireToken:
    """With real data on show (`--invoice`, `--database`), every request carries the run's
    token: in the URL the command printed (`?token=`), then in a cookie it sets."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        given = request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE) or ""
        if not secrets.compare_digest(given, self.token):
            await PlainTextResponse("This preview needs the link it printed.", 403)(
                scope, receive, send
            )
            return

        async def with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and "token" in request.query_params:
                cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
                message.setdefault("headers", []).append((b"set-cookie", cookie.encode()))
            await send(message)

        await self.app(scope, receive, with_cookie)


def build_preview_app(
    settings: Settings,
    templates_dir: Path,
    fixtures_dir: Path,
    *,
    watch: bool = True,
    workers: int = 2,
    hosts: Sequence[str] = DEFAULT_HOSTS,
    token: str | None = None,
    on_stop: Callable[[], None] | None = None,
) -> Starlette:
    """The app; it answers only requests addressed to `hosts` (DNS rebinding cannot reach
    it), and only with `token` when one is given. `on_stop` runs as it shuts down (uvicorn
    re-raises SIGTERM once the app has stopped, so nothing after `uvicorn.run` runs)."""
    renderer = open_renderer(settings, workers)
    rules = open_einvoice_rules(settings.einvoice.rules_dir)
    workspace = Workspace(settings, templates_dir, fixtures_dir, renderer, rules)
    feed = ChangeFeed()

    async def watch_files(stop: asyncio.Event) -> None:
        async for changes in awatch(
            workspace.templates_dir, workspace.fixtures_dir, stop_event=stop, debounce=20, step=10
        ):
            paths = sorted({Path(path).name for _, path in changes})
            feed.publish(json.dumps({"files": paths}))

    async def warm_up() -> None:
        """Start the render workers now, by preparing the page a designer opens first: each
        takes about a second to import WeasyPrint, which should not be a save's second."""
        fixtures = workspace.fixtures()
        if fixtures:
            with contextlib.suppress(PreviewError):
                await workspace.prepare(workspace.default_template(), fixtures[0])

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # CLDR's country names, read once per process (about 0.3 s): before the first page,
        # not in the middle of a designer's save.
        country_codes()
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch_files(stop)) if watch else None
        warming = asyncio.create_task(warm_up())
        try:
            yield
        finally:
            stop.set()
            warming.cancel()
            await asyncio.gather(warming, return_exceptions=True)
            if watcher is not None:
                await asyncio.gather(watcher, return_exceptions=True)
            renderer.close()
            rules.close()
            if on_stop is not None:
                on_stop()

    def combination(request: Request) -> tuple[str, str, str | None]:
        template, fixture = request.path_params["template"], request.path_params["fixture"]
        workspace.template_file(template)  # 404 for a name that is not a template's
        language = request.query_params.get("lang") or None
        if language is not None and language not in workspace.languages(template):
            raise PreviewError(404, f"{template}.html", "no such language variant")
        return template, fixture, language

    async def index(request: Request) -> Response:
        return HTMLResponse(page_html(workspace, None, None, None))

    async def preview(request: Request) -> Response:
        template, fixture, language = combination(request)
        if fixture.endswith(".html"):
            try:
                prepared = await workspace.prepare(
                    template, fixture.removesuffix(".html"), language
                )
            except PreviewError as error:
                return _error(error)
            html = prepared.html.replace("<head>", _screen_head(request), 1)
            return HTMLResponse(html, headers={"X-Template": prepared.template})
        if fixture.endswith(".pdf"):
            try:
                pdf = await workspace.pdf(template, fixture.removesuffix(".pdf"), language)
            except PreviewError as error:
                return _error(error)
            headers = {
                "X-Cache": "HIT" if pdf.hit else "MISS",
                "X-Render-Ms": f"{pdf.milliseconds:.0f}",
                "X-Pages": str(pdf.page_count),
                "Content-Disposition": f'inline; filename="{fixture}"',
                "Cache-Control": "no-store",
            }
            return Response(pdf.data, media_type="application/pdf", headers=headers)
        return HTMLResponse(page_html(workspace, template, fixture, language))

    async def email(request: Request) -> Response:
        """The invoice email for a fixture: its HTML part, or the text part with ?part=text;
        with ?reminder=N, its reminder N days after the due date (negative: before)."""
        language = request.query_params.get("lang") or None
        days = request.query_params.get("reminder")
        try:
            reminder = int(days) if days is not None else None
        except ValueError:
            return PlainTextResponse("reminder: a number of days, e.g. 7 or -3", status_code=400)
        content = await workspace.email(request.path_params["fixture"], language, reminder)
        if request.query_params.get("part") == "text":
            return PlainTextResponse(content.text_body)
        return HTMLResponse(content.html_body)

    async def einvoice_report(request: Request) -> Response:
        """The EN 16931 rules the fixture's CII (Factur-X) and UBL e-invoices break."""
        language = request.query_params.get("lang") or None
        try:
            report = await workspace.einvoice(request.path_params["fixture"], language)
        except PreviewError as error:
            return _error(error)
        return JSONResponse(report)

    async def lint_report(request: Request) -> Response:
        template, fixture, language = combination(request)
        try:
            template_file, report = await workspace.lint(template, fixture, language)
        except PreviewError as error:
            return _error(error)
        return JSONResponse({"template": template_file, **report.as_dict()})

    async def asset(request: Request) -> Response:
        path = (workspace.templates_dir / request.path_params["path"]).resolve()
        if not path.is_relative_to(workspace.templates_dir) or not path.is_file():
            return Response("Not found", status_code=404)
        return FileResponse(path, headers={"Cache-Control": "no-store"})

    async def events(request: Request) -> Response:
        return StreamingResponse(
            feed.stream(request),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store"},
        )

    async def refused(request: Request, error: Exception) -> Response:
        assert isinstance(error, PreviewError)
        return _error(error)

    middleware = [
        Middleware(QuietStop),
        Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts)),
    ]
    if token is not None:
        middleware.append(Middleware(RequireToken, token=token))
    app = Starlette(
        routes=[
            Route("/", index),
            Route("/preview/{template}/{fixture}", preview),
            Route("/lint/{template}/{fixture}", lint_report),
            Route("/email/{fixture}", email),
            Route("/einvoice/{fixture}", einvoice_report),
            Route("/templates/{path:path}", asset),
            Route("/events", events),
        ],
        lifespan=lifespan,
        middleware=middleware,
        exception_handlers={PreviewError: refused},
    )
    app.state.workspace = workspace
    app.state.feed = feed
    return app
