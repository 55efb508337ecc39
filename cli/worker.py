"""`invoicing worker`: run queued rendering and billing jobs from Redis."""

from __future__ import annotations

import logging

import click

from cli.common import clear_errors, require_database, settings_of
from domain.bootstrap import run_worker


@click.command()
@click.option(
    "--metrics-port", type=int, default=None, help="Serve this worker's metrics on this port."
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
@click.pass_context
@clear_errors
def worker(ctx: click.Context, metrics_port: int | None, metrics_host: str) -> None:
    """Do queued rendering and billing jobs (workers.backend: redis) until stopped."""
    settings = settings_of(ctx)
    require_database(settings)
    if settings.workers.backend != "redis":
        raise click.ClickException(
            "workers.backend is 'local': rendering and billing happen in the API process; "
            "set it to 'redis' (and workers.redis_url) to run workers"
        )
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
    )
    run_worker(settings, metrics_port, metrics_host)
