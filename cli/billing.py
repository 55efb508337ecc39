"""`invoicing billing run`: automatic billing, one invoice per customer."""

from __future__ import annotations

import io
import sys
from datetime import datetime
from decimal import Decimal

import click

from cli.common import clear_errors, settings_of, with_runtime
from domain.bootstrap import Runtime
from domain.model.access import Viewer
from domain.model.commands import BillingOrder
from domain.model.enums import Role
from domain.model.formatting import Formatter
from domain.model.texts import counted
from domain.services.billing import BillingRun, billing_targets, run_billing

_DAY = click.DateTime(["%Y-%m-%d"])


@click.group()
def billing() -> None:
    """Automatic billing."""


@billing.command("run")
@click.option("--start", "start", type=_DAY, required=True, help="First day billed.")
@click.option("--end", "end", type=_DAY, required=True, help="Last day billed.")
@click.option("--due", "due", type=_DAY, required=True, help="Due date of the invoices.")
@click.option(
    "--customer", "customer_ids", type=int, multiple=True, help="Only these customers (repeatable)."
)
@click.pass_context
@clear_errors
def billing_run(
    ctx: click.Context,
    start: datetime,
    end: datetime,
    due: datetime,
    customer_ids: tuple[int, ...],
) -> None:
    """One invoice per customer with unbilled charges from START to END."""
    settings = settings_of(ctx)
    operator = Viewer(role=Role.STAFF, name="billing run (command line)")
    order = BillingOrder(start.date(), end.date(), due.date(), operator)

    async def work(runtime: Runtime) -> BillingRun:
        _, targets = await billing_targets(runtime.db, settings, order, list(customer_ids) or None)
        # A bar on a terminal; piped or logged, click would print only its label.
        shown = sys.stderr.isatty()
        with click.progressbar(
            length=len(targets), label="billing", file=sys.stderr if shown else io.StringIO()
        ) as bar:
            return await run_billing(
                runtime.db,
                settings,
                order,
                runtime.work,
                targets,
                on_progress=lambda _customer: bar.update(1),
            )

    run = with_runtime(settings, work)
    # Never one sum of different currencies: a total per currency, the business's first.
    totals: dict[str, Decimal] = {settings.business.currency_code: Decimal(0)}
    for invoice in run.invoices:
        totals[invoice.currency] = totals.get(invoice.currency, Decimal(0)) + invoice.total
    language = settings.business.default_language
    billed = " + ".join(
        Formatter.of(settings.business, language, currency).money(total)
        for currency, total in totals.items()
        if total or currency == settings.business.currency_code
    )
    click.echo(
        f"{counted(len(run.invoices), 'invoice')} for {billed}, "
        f"{counted(len(run.skipped_customer_ids), 'customer')} with nothing to bill, "
        f"{len(run.failures)} failed"
    )
    for customer_id, error in run.failures:
        click.echo(f"customer {customer_id}: {error.message}", err=True)
    if run.failures:
        ctx.exit(1)
