"""`invoicing cache clear|prune`: the invoice PDF cache (Invoice_PDF_Cache)."""

from __future__ import annotations

import click

from cli.common import clear_errors, settings_of, with_runtime
from domain.model.access import SYSTEM


@click.group()
def cache() -> None:
    """The invoice PDF cache (Invoice_PDF_Cache)."""


@cache.command("clear")
@click.option("--invoice", "invoice_id", type=int, default=None, help="Only this invoice's PDF.")
@click.pass_context
@clear_errors
def cache_clear(ctx: click.Context, invoice_id: int | None) -> None:
    """Drop cached PDFs; they are rendered again on the next download."""
    cleared = with_runtime(settings_of(ctx), lambda rt: rt.pdfs.clear(SYSTEM, invoice_id))
    click.echo(f"cleared {cleared} cached PDF{'s' if cleared != 1 else ''}")


@cache.command("prune")
@click.pass_context
@clear_errors
def cache_prune(ctx: click.Context) -> None:
    """Drop PDFs past invoice.pdf_cache's age, idle and size limits."""
    settings = settings_of(ctx)
    report = with_runtime(settings, lambda rt: rt.pdfs.prune())
    limits = settings.invoice.pdf_cache
    click.echo(
        f"removed {report.too_old} older than {limits.max_age_days} days, {report.idle} idle for "
        f"{limits.max_idle_days} days, {report.over_size} beyond {limits.max_total_mb} MB; "
        f"freed {report.bytes_freed / 1024 / 1024:.1f} MB"
    )
