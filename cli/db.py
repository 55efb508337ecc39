"""`invoicing db upgrade|seed|rebuild-summaries`: the schema and demo data."""

from __future__ import annotations

import click

from cli.common import clear_errors, settings_of, with_runtime
from domain.bootstrap import Runtime
from domain.model.texts import counted
from domain.ops.check import check_database
from domain.ops.migrations import upgrade as run_upgrade
from domain.ops.seed import database_is_empty, seed_demo_data
from domain.store import receivable_totals, title_totals
from domain.store.invoice_totals import rebuild


@click.group()
def db() -> None:
    """Database schema, demo data and the consistency check."""


@db.command()
@click.pass_context
@clear_errors
def upgrade(ctx: click.Context) -> None:
    """Migrate the database to the latest schema (safe to repeat)."""
    before, after = run_upgrade(settings_of(ctx).database.url)
    if before == after:
        click.echo(f"database already at the latest schema ({after}); nothing to do")
    elif before is None:
        click.echo(f"empty database: created the schema ({after})")
    else:
        click.echo(f"database migrated from {before} to {after}")


@db.command()
@click.option("--transactions", default=300, show_default=True, help="How many demo charges.")
@click.pass_context
@clear_errors
def seed(ctx: click.Context, transactions: int) -> None:
    """Load demo data into an empty database (does nothing if it has customers)."""

    async def work(runtime: Runtime) -> None:
        if not await database_is_empty(runtime.db):
            click.echo("database already has data; nothing seeded")
            return
        report = await seed_demo_data(runtime.db, runtime.settings, transactions=transactions)
        click.echo(
            f"seeded {counted(report.customers, 'customer')}, "
            f"{counted(report.products, 'product')}, "
            f"{counted(report.transactions, 'transaction')}, {counted(report.invoices, 'invoice')}"
        )

    with_runtime(settings_of(ctx), work)


@db.command("rebuild-summaries")
@click.pass_context
@clear_errors
def rebuild_summaries(ctx: click.Context) -> None:
    """Recount the stats, receivables and search title summaries (needed after changing
    business.timezone, or when `invoicing db check` finds one off)."""
    settings = settings_of(ctx)

    async def work(runtime: Runtime) -> tuple[int, int, int]:
        stats = await rebuild(runtime.db, settings.business.zone)
        owed = await receivable_totals.rebuild(runtime.db)
        async with runtime.db.transaction() as session:
            titles = await session.run_sync(lambda sync: title_totals.rebuild(sync.connection()))
        return stats, owed, titles

    stats, owed, titles = with_runtime(settings, work)
    click.echo(
        f"stats summary rebuilt: {counted(stats, 'row')}; receivables: {counted(owed, 'row')};"
        f" titles: {counted(titles, 'row')}"
    )


@db.command("check")
@click.pass_context
@clear_errors
def check(ctx: click.Context) -> None:
    """Check the invariants (billed once, at the frozen amount; totals; payments; stats);
    exit 1 naming the offending ids."""
    settings = settings_of(ctx)
    findings = with_runtime(settings, lambda rt: check_database(rt.db, settings.business.zone))
    for finding in findings:
        click.echo(f"FAIL {finding}", err=True)
    if findings:
        ctx.exit(1)
    click.echo("database is consistent")
