"""`invoicing templates check|snapshot`: checks on invoice templates, for CI."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from cli.common import clear_errors, settings_of
from domain.bootstrap import open_glyph_coverage, open_renderer
from domain.config import Settings
from domain.model.texts import counted
from domain.ports import PdfRenderer
from preview_server.checks import check_all, snapshot
from preview_server.workspace import Workspace

_TEMPLATES = click.option(
    "--templates",
    "templates_dir",
    default=None,
    help="Template folder (default: invoice.template_dir).",
)
_FIXTURES = click.option("--fixtures", "fixtures_dir", default="fixtures", show_default=True)


@click.group()
def templates() -> None:
    """Checks on invoice templates, for CI."""


def _workspace(
    settings: Settings, templates_dir: str | None, fixtures_dir: str
) -> tuple[Workspace, PdfRenderer]:
    renderer = open_renderer(settings)
    folder = Path(templates_dir or settings.invoice.template_dir)
    return Workspace(settings, folder, Path(fixtures_dir), renderer), renderer


@templates.command("check")
@_TEMPLATES
@_FIXTURES
@click.pass_context
@clear_errors
def templates_check(ctx: click.Context, templates_dir: str | None, fixtures_dir: str) -> None:
    """Render every template x fixture x language; fail on errors, missing variables, remote
    URLs, and text no installed font can draw (it would print as empty boxes)."""
    workspace, renderer = _workspace(settings_of(ctx), templates_dir, fixtures_dir)
    glyphs = open_glyph_coverage(workspace.templates_dir)
    try:
        rows = asyncio.run(check_all(workspace, glyphs))
    finally:
        renderer.close()
    width = max(len(row.name) for row in rows)
    click.echo(f"{'combination'.ljust(width)}  pages      size  render  problem")
    for row in rows:
        click.echo(
            f"{row.name.ljust(width)}  {row.pages:5d}  {row.size_bytes / 1024:6.0f} KB  {row.milliseconds:4.0f} ms  {row.problem}"
        )
    failed = [row for row in rows if row.problem]
    click.echo(f"{len(rows) - len(failed)} passed, {len(failed)} failed")
    if failed:
        ctx.exit(1)


@templates.command("snapshot")
@_TEMPLATES
@_FIXTURES
@click.option(
    "--golden", "golden_dir", default=None, help="Golden PNGs (default: <templates>/golden)."
)
@click.option(
    "--compare/--update",
    default=True,
    help="Compare with the golden images (default) or rewrite them.",
)
@click.option(
    "--diffs",
    "diff_dir",
    default="var/template-diffs",
    show_default=True,
    help="Where diff images go.",
)
@click.pass_context
@clear_errors
def templates_snapshot(
    ctx: click.Context,
    templates_dir: str | None,
    fixtures_dir: str,
    golden_dir: str | None,
    compare: bool,
    diff_dir: str,
) -> None:
    """Render each combination's pages to PNG and compare them with the golden images."""
    workspace, renderer = _workspace(settings_of(ctx), templates_dir, fixtures_dir)
    golden = Path(golden_dir) if golden_dir else workspace.templates_dir / "golden"
    try:
        rows = asyncio.run(snapshot(workspace, golden, update=not compare, diff_dir=Path(diff_dir)))
    finally:
        renderer.close()
    for row in rows:
        click.echo(f"{row.status:8s} {row.name} ({counted(row.pages, 'page')}) {row.detail}")
    failed = [row for row in rows if row.status in ("changed", "new", "error")]
    click.echo(f"{len(rows) - len(failed)} passed, {len(failed)} failed")
    if failed:
        ctx.exit(1)
