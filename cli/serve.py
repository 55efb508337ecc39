"""`invoicing serve`: the GraphQL API, in one or several processes."""

from __future__ import annotations

import os
import shutil
import tempfile

import click
import uvicorn

from cli.common import clear_errors, settings_of


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
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
