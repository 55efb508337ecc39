"""`invoicing schema export`: the live SDL, for clients and the contract check."""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import clear_errors
from graph.schema import SCHEMA_FILE, export_sdl


@click.group()
def schema() -> None:
    """The GraphQL schema."""


@schema.command("export")
@click.option("--output", default=None, help="Where to write it (default graph/schema.graphql).")
@clear_errors
def schema_export(output: str | None) -> None:
    """Write the live schema's SDL."""
    target = Path(output) if output else SCHEMA_FILE
    target.write_text(export_sdl(), encoding="utf-8")
    click.echo(f"wrote {target}")
