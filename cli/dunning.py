"""`invoicing dunning run`: one dunning round now (the workers run one every
dunning.run_every_seconds): overdue invoices announced, late fees booked, reminders sent."""

from __future__ import annotations

from datetime import date, datetime

import click

from cli.common import clear_errors, settings_of, with_runtime
from domain.bootstrap import Runtime
from domain.services.dunning import DunningReport, run_round


@click.group()
def dunning() -> None:
    """Overdue invoices: reminders and late fees."""


@dunning.command("run")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day the round runs on (default: today in business.timezone).",
)
@click.option("--dry-run", is_flag=True, help="Print what it would do; change and send nothing.")
@click.pass_context
@clear_errors
def run(ctx: click.Context, today: datetime | None, dry_run: bool) -> None:
    """Announce overdue invoices, book the late fees due and send the reminder of the
    schedule that is due, each once."""
    day: date | None = today.date() if today else None

    async def work(runtime: Runtime) -> DunningReport:
        return await run_round(
            runtime.db, runtime.settings, runtime.pdfs, runtime.mail, day, dry_run
        )

    report = with_runtime(settings_of(ctx), work)
    would = "would " if dry_run else ""
    for number in report.overdue:
        click.echo(f"{number}: {would}{'be ' if dry_run else ''}announced overdue")
    for number, month, amount in report.fees:
        click.echo(f"{number}: {would}book late fee, month {month}: {amount}")
    for number, step, to in report.sent:
        click.echo(f"{number}: {would}send reminder (day {step:+d}) to {to}")
    for number, step, why in report.failed:
        click.echo(f"{number}: reminder (day {step:+d}) not sent: {why}")
    if not (report.overdue or report.fees or report.sent or report.failed):
        click.echo("nothing to do")
