"""`invoicing payments reconcile`: card payments and refunds whose outcome was lost."""

from __future__ import annotations

import click

from cli.common import clear_errors, settings_of, with_runtime
from domain.bootstrap import Runtime
from domain.services.payments.reconcile import ReconcileReport, reconcile_payments


@click.group()
def payments() -> None:
    """Card payments and refunds."""


@payments.command("reconcile")
@click.pass_context
@clear_errors
def reconcile(ctx: click.Context) -> None:
    """Settle every card payment or refund still open after payments.unknown_after_seconds
    by asking the provider what became of it (never by charging again)."""

    async def work(runtime: Runtime) -> ReconcileReport:
        return await reconcile_payments(
            runtime.db, runtime.settings, runtime.metrics, runtime.cards
        )

    report = with_runtime(settings_of(ctx), work)
    if not report.total:
        click.echo("no open payment attempts to settle")
        return
    click.echo(
        f"{report.total} open attempts: "
        + ", ".join(f"{count} {outcome}" for outcome, count in sorted(report.outcomes.items()))
    )
