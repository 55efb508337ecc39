"""`invoicing serve`: the GraphQL API, in one or several processes."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import click
import uvicorn

from cli.common import (
    PROJECT,
    clear_errors,
    require_database,
    settings_of,
    uses_the_projects_settings,
)


@click.command()
@click.option("--host", default=None, help="Address to listen on (default: server.host).")
@click.option("--port", default=None, type=int, help="Port to listen on (default: server.port).")
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Server processes."
)
@click.pass_context
@clear_errors
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int) -> None:
    """Serve the GraphQL API (several processes share one database with --workers)."""
    settings = settings_of(ctx)
    require_database(settings)
    # The server processes read their settings again, from the environment and the folder
    # they run in: run from elsewhere, they run in the project, where its settings' relative
    # folders (templates, outbox, var/) are.
    os.environ.setdefault("DATABASE_URL", settings.database.url)
    if uses_the_projects_settings(os.environ, Path.cwd()):
        os.chdir(PROJECT)
    bound = settings.server.model_copy(
        update={"host": host or settings.server.host, "port": port or settings.server.port}
    )
    if not settings.server.public_url:
        # The links handed out (pdfUrl, emails) point at where this server really listens;
        # the server processes read their settings again, from the environment.
        os.environ["PUBLIC_URL"] = bound.base_url
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each process counts into files here; a scrape of any one adds them all up.
        metrics_dir = tempfile.mkdtemp(prefix="invoicing-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run(
            "graph.app:create_app",
            factory=True,
            host=bound.host,
            port=bound.port,
            log_level="info",
            timeout_graceful_shutdown=5,
            workers=workers,
            # A connection that sends nothing, or stops half way through its headers, is
            # closed after this long instead of being held open for ever.
            timeout_keep_alive=settings.server.keep_alive_seconds,
            http="cli.http_protocol:HeaderTimeoutProtocol",
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
