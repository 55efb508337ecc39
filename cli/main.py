"""`invoicing`: serve the API, migrate and seed the database, manage tokens, export the schema.

Every failure prints one line starting with "error:" and exits non-zero.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from decimal import Decimal
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from domain.config import ConfigError, Settings, load_settings
from domain.errors import DomainError
from domain.models import Role
from domain.runtime import Runtime

T = TypeVar("T")


def _settings(ctx: click.Context) -> Settings:
    return ctx.ensure_object(dict).setdefault("settings", load_settings())


def _with_runtime(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
    async def run() -> T:
        runtime = Runtime.open(settings)
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    return asyncio.run(run())


def _clear_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Known failures as one line, not a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConfigError as error:
            raise click.ClickException(f"configuration: {error}") from None
        except DomainError as error:
            raise click.ClickException(error.message) from None
        except OSError as error:
            raise click.ClickException(str(error)) from None
        except Exception as error:  # database drivers raise many kinds; name it, no trace
            if type(error).__module__.startswith(("sqlalchemy", "pymysql", "aiomysql", "sqlite3")):
                raise click.ClickException(f"database: {str(error).splitlines()[0]}") from None
            raise

    return wrapper


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Customer invoices for a CRM."""
    ctx.ensure_object(dict)


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default: server.host).")
@click.option("--port", default=None, type=int, help="Port to listen on (default: server.port).")
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Server processes."
)
@click.pass_context
@_clear_errors
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int) -> None:
    """Serve the GraphQL API (several processes share one database with --workers)."""
    settings = _settings(ctx)
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each process counts into files here; a scrape of any one adds them all up.
        metrics_dir = tempfile.mkdtemp(prefix="invoicing-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        _serve(settings, host, port, workers)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _serve(settings: Settings, host: str | None, port: int | None, workers: int) -> None:
    import uvicorn

    uvicorn.run(
        "graph.app:create_app",
        factory=True,
        host=host or settings.server.host,
        port=port or settings.server.port,
        log_level="info",
        timeout_graceful_shutdown=5,
        workers=workers,
    )


@cli.group()
def db() -> None:
    """Database schema and demo data."""


@db.command()
@click.pass_context
@_clear_errors
def upgrade(ctx: click.Context) -> None:
    """Migrate the database to the latest schema (safe to repeat)."""
    from domain.migrations import upgrade as run_upgrade

    settings = _settings(ctx)
    run_upgrade(settings.database.url)
    click.echo("database is at the latest schema")


@db.command()
@click.option("--transactions", default=300, show_default=True, help="How many demo charges.")
@click.pass_context
@_clear_errors
def seed(ctx: click.Context, transactions: int) -> None:
    """Load demo data into an empty database (does nothing if it has customers)."""
    from domain.seed import database_is_empty, seed_demo_data

    async def work(runtime: Runtime) -> None:
        if not await database_is_empty(runtime.db):
            click.echo("database already has data; nothing seeded")
            return
        report = await seed_demo_data(runtime.db, runtime.settings, transactions=transactions)
        click.echo(
            f"seeded {report.customers} customers, {report.products} products, "
            f"{report.transactions} transactions, {report.invoices} invoices"
        )

    _with_runtime(_settings(ctx), work)


@db.command("rebuild-summaries")
@click.pass_context
@_clear_errors
def rebuild_summaries(ctx: click.Context) -> None:
    """Recount the stats summary (needed after changing business.timezone)."""
    from domain.invoice_totals import rebuild

    settings = _settings(ctx)
    rows = _with_runtime(settings, lambda rt: rebuild(rt.db, settings.business.zone))
    click.echo(f"stats summary rebuilt: {rows} rows")


@cli.group()
def token() -> None:
    """API bearer tokens."""


@token.command("create")
@click.option("--role", type=click.Choice(["staff", "customer"]), required=True)
@click.option("--customer-id", type=int, default=None, help="The customer a customer token sees.")
@click.option("--name", default=None, help="Who holds it; shown in invoice history.")
@click.pass_context
@_clear_errors
def token_create(ctx: click.Context, role: str, customer_id: int | None, name: str | None) -> None:
    """Mint a token; it is printed once, as the last line, and stored only hashed."""
    from domain.tokens import mint_token

    chosen = Role(role.upper())
    label = name or (f"customer {customer_id}" if chosen is Role.CUSTOMER else "staff")
    minted = _with_runtime(_settings(ctx), lambda rt: mint_token(rt.db, chosen, label, customer_id))
    click.echo(f"token {minted.id} ({minted.role.value.lower()}, {minted.name}):", err=True)
    click.echo(minted.token)


@token.command("revoke")
@click.argument("token_id", type=int, required=False)
@click.option(
    "--token", "value", default=None, help="Revoke by the token itself instead of its id."
)
@click.pass_context
@_clear_errors
def token_revoke(ctx: click.Context, token_id: int | None, value: str | None) -> None:
    """Revoke a token by id (see `token list`) or by value."""
    from domain.tokens import revoke_token

    if (token_id is None) == (value is None):
        raise click.UsageError("give either a TOKEN_ID or --token")
    row = _with_runtime(_settings(ctx), lambda rt: revoke_token(rt.db, token_id, value))
    click.echo(f"token {row.id} ({row.name}) revoked")


@token.command("list")
@click.pass_context
@_clear_errors
def token_list(ctx: click.Context) -> None:
    """List tokens (never their values)."""
    from domain.tokens import list_tokens

    for row in _with_runtime(_settings(ctx), lambda rt: list_tokens(rt.db)):
        state = "revoked" if row.revoked_at else "active"
        scope = f" customer {row.customer_id}" if row.customer_id else ""
        click.echo(f"{row.id}\t{row.role.value.lower()}{scope}\t{state}\t{row.name}")


@cli.group()
def billing() -> None:
    """Automatic billing."""


@billing.command("run")
@click.option(
    "--start", "start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day billed."
)
@click.option(
    "--end", "end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day billed."
)
@click.option(
    "--due",
    "due",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="Due date of the invoices.",
)
@click.option(
    "--customer", "customer_ids", type=int, multiple=True, help="Only these customers (repeatable)."
)
@click.pass_context
@_clear_errors
def billing_run(
    ctx: click.Context, start: Any, end: Any, due: Any, customer_ids: tuple[int, ...]
) -> None:
    """One invoice per customer with unbilled charges from START to END."""
    from domain.access import Viewer
    from domain.billing import Period, customers_to_bill
    from domain.money import format_money
    from domain.work_queue import BillingOrder

    settings = _settings(ctx)
    operator = Viewer(role=Role.STAFF, name="billing run (command line)")

    async def work(runtime: Runtime) -> Any:
        targets = list(customer_ids) or await customers_to_bill(
            runtime.db, settings, Period(start.date(), end.date())
        )
        order = BillingOrder(start.date(), end.date(), due.date(), operator)
        with click.progressbar(length=len(targets), label="billing", file=sys.stderr) as bar:
            return await runtime.work.run_billing(
                order, targets, on_progress=lambda _customer: bar.update(1)
            )

    run = _with_runtime(settings, work)
    total = sum((invoice.total for invoice in run.invoices), Decimal(0))
    symbol = settings.business.currency_symbol
    click.echo(
        f"{len(run.invoices)} invoices for {format_money(total, symbol)}, "
        f"{len(run.skipped_customer_ids)} customers with nothing to bill, {len(run.failures)} failed"
    )
    for customer_id, error in run.failures:
        click.echo(f"customer {customer_id}: {error.message}", err=True)
    if run.failures:
        ctx.exit(1)


@cli.command()
@click.option(
    "--metrics-port", type=int, default=None, help="Serve this worker's metrics on this port."
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
@click.pass_context
@_clear_errors
def worker(ctx: click.Context, metrics_port: int | None, metrics_host: str) -> None:
    """Do queued rendering and billing jobs (workers.backend: redis) until stopped."""
    from domain.redis_work import build_worker

    settings = _settings(ctx)
    if settings.workers.backend != "redis":
        raise click.ClickException(
            "workers.backend is 'local': rendering and billing happen in the API process; "
            "set it to 'redis' (and workers.redis_url) to run workers"
        )
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
    )
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=metrics_host)
    build_worker(settings).run()


@cli.group()
def cache() -> None:
    """The invoice PDF cache (Invoice_PDF_Cache)."""


@cache.command("clear")
@click.option("--invoice", "invoice_id", type=int, default=None, help="Only this invoice's PDF.")
@click.pass_context
@_clear_errors
def cache_clear(ctx: click.Context, invoice_id: int | None) -> None:
    """Drop cached PDFs; they are rendered again on the next download."""
    from domain.access import SYSTEM

    cleared = _with_runtime(_settings(ctx), lambda rt: rt.pdfs.clear(SYSTEM, invoice_id))
    click.echo(f"cleared {cleared} cached PDF{'s' if cleared != 1 else ''}")


@cache.command("prune")
@click.pass_context
@_clear_errors
def cache_prune(ctx: click.Context) -> None:
    """Drop PDFs past invoice.pdf_cache's age, idle and size limits."""
    settings = _settings(ctx)
    report = _with_runtime(settings, lambda rt: rt.pdfs.prune())
    limits = settings.invoice.pdf_cache
    click.echo(
        f"removed {report.too_old} older than {limits.max_age_days} days, {report.idle} idle for "
        f"{limits.max_idle_days} days, {report.over_size} beyond {limits.max_total_mb} MB; "
        f"freed {report.bytes_freed / 1024 / 1024:.1f} MB"
    )


@cli.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="A development tool: local by default."
)
@click.option("--port", default=5001, show_default=True, type=int)
@click.option(
    "--templates",
    "templates_dir",
    default=None,
    help="Template folder (default: invoice.template_dir).",
)
@click.option(
    "--fixtures", "fixtures_dir", default="fixtures", show_default=True, help="Fixture folder."
)
@click.option(
    "--database", default=None, help="With --invoice: preview a real invoice from this database."
)
@click.option(
    "--invoice", "invoice_id", type=int, default=None, help="An invoice to preview, read-only."
)
@click.pass_context
@_clear_errors
def preview(
    ctx: click.Context,
    host: str,
    port: int,
    templates_dir: str | None,
    fixtures_dir: str,
    database: str | None,
    invoice_id: int | None,
) -> None:
    """Live preview of invoice templates against fixtures, as HTML and PDF."""
    import tempfile
    from pathlib import Path

    import uvicorn

    from preview_server.app import build_preview_app

    settings = _settings(ctx)
    fixtures = Path(fixtures_dir)
    if invoice_id is not None:
        fixtures = _real_invoice_fixture(
            settings, database, invoice_id, fixtures, Path(tempfile.mkdtemp())
        )
    app = build_preview_app(
        settings, Path(templates_dir or settings.invoice.template_dir), fixtures
    )
    click.echo(f"preview on http://{host}:{port}/", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2)


def _real_invoice_fixture(
    settings: Settings, database: str | None, invoice_id: int, fixtures: Path, into: Path
) -> Path:
    """A fixture folder holding the shipped fixtures and invoice-N, read from the database."""
    import json
    import shutil

    from domain.access import SYSTEM
    from domain.config import DatabaseSettings
    from domain.db import Database
    from domain.documents import invoice_document, invoice_lines
    from domain.invoices import get_invoice
    from domain.models import Customer

    async def read() -> dict[str, object]:
        db = Database.from_settings(
            DatabaseSettings(url=database) if database else settings.database
        )
        try:
            invoice = await get_invoice(db, SYSTEM, invoice_id)
            if invoice is None:
                raise click.ClickException(f"invoice {invoice_id} does not exist")
            async with db.read() as session:
                customer = await session.get(Customer, invoice.customer_id)
                lines = await invoice_lines(session, invoice_id)
            document = invoice_document(invoice, customer, lines, settings)
        finally:
            await db.dispose()
        return {
            "number": document.number,
            "title": document.title,
            "date": document.issued_at.isoformat(),
            "due_date": str(document.due_date),
            "start_date": str(document.start_date) if document.start_date else None,
            "end_date": str(document.end_date) if document.end_date else None,
            "payment_url": document.payment_url,
            "status": document.status.value,
            "void": document.void,
            "payment_method": document.payment_method,
            "paid_at": document.paid_at.isoformat() if document.paid_at else None,
            "client": {
                "name": document.client.name,
                "language": document.client.language,
                "address": document.client.address.__dict__,
            },
            "transactions": [
                {
                    "transaction_id": line.transaction_id,
                    "created": line.created.isoformat(),
                    "title": line.title,
                    "description": line.description,
                    "retail_cost": str(line.retail_cost),
                    "tax_percentage": str(line.tax_percentage),
                    "tax_amount": str(line.tax_amount),
                }
                for line in document.lines
            ],
        }

    data = asyncio.run(read())
    if fixtures.is_dir():
        shutil.copytree(fixtures, into, dirs_exist_ok=True)
    (into / f"invoice-{invoice_id}.json").write_text(
        json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return into


@cli.group()
def templates() -> None:
    """Checks on invoice templates, for CI."""


def _workspace(settings: Settings, templates_dir: str | None, fixtures_dir: str):
    from pathlib import Path

    from domain.pdf_renderer import PdfRenderer
    from preview_server.workspace import Workspace

    renderer = PdfRenderer(workers=settings.invoice.render_workers)
    return Workspace(
        settings, Path(templates_dir or settings.invoice.template_dir), Path(fixtures_dir), renderer
    ), renderer


@templates.command("check")
@click.option(
    "--templates",
    "templates_dir",
    default=None,
    help="Template folder (default: invoice.template_dir).",
)
@click.option("--fixtures", "fixtures_dir", default="fixtures", show_default=True)
@click.pass_context
@_clear_errors
def templates_check(ctx: click.Context, templates_dir: str | None, fixtures_dir: str) -> None:
    """Render every template x fixture x language; fail on errors, missing variables, remote URLs."""
    from preview_server.checks import check_all

    workspace, renderer = _workspace(_settings(ctx), templates_dir, fixtures_dir)
    try:
        rows = asyncio.run(check_all(workspace))
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
@click.option(
    "--templates",
    "templates_dir",
    default=None,
    help="Template folder (default: invoice.template_dir).",
)
@click.option("--fixtures", "fixtures_dir", default="fixtures", show_default=True)
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
@_clear_errors
def templates_snapshot(
    ctx: click.Context,
    templates_dir: str | None,
    fixtures_dir: str,
    golden_dir: str | None,
    compare: bool,
    diff_dir: str,
) -> None:
    """Render each combination's pages to PNG and compare them with the golden images."""
    from pathlib import Path

    from preview_server.checks import snapshot

    settings = _settings(ctx)
    workspace, renderer = _workspace(settings, templates_dir, fixtures_dir)
    golden = Path(golden_dir) if golden_dir else workspace.templates_dir / "golden"
    try:
        rows = asyncio.run(snapshot(workspace, golden, update=not compare, diff_dir=Path(diff_dir)))
    finally:
        renderer.close()
    for row in rows:
        click.echo(f"{row.status:8s} {row.name} ({row.pages} pages) {row.detail}")
    failed = [row for row in rows if row.status in ("changed", "new", "error")]
    click.echo(f"{len(rows) - len(failed)} passed, {len(failed)} failed")
    if failed:
        ctx.exit(1)


@cli.group()
def schema() -> None:
    """The GraphQL schema."""


@schema.command("export")
@click.option("--output", default=None, help="Where to write it (default graph/schema.graphql).")
@_clear_errors
def schema_export(output: str | None) -> None:
    """Write the live schema's SDL."""
    from pathlib import Path

    from graph.schema import SCHEMA_FILE, export_sdl

    target = Path(output) if output else SCHEMA_FILE
    target.write_text(export_sdl(), encoding="utf-8")
    click.echo(f"wrote {target}")


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
