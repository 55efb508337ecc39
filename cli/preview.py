"""`invoicing preview`: the template preview dev server."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import tempfile
from pathlib import Path

import click
import uvicorn

from cli.common import clear_errors, settings_of
from domain.bootstrap import open_database
from domain.config import DatabaseSettings, Settings
from domain.model.access import SYSTEM
from domain.model.entities import Customer
from domain.queries.invoices import get_invoice
from domain.rendering.documents import document_to_mapping, invoice_document, line_of
from domain.rendering.links import pay_url
from domain.store.deployment import link_secret
from domain.store.pdf_cache import lines_of
from preview_server.app import DEFAULT_HOSTS, build_preview_app


@click.command()
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
@click.option(
    "--allow-host",
    "allowed_hosts",
    multiple=True,
    help="Another name the page may be reached by (with --host 0.0.0.0); repeatable.",
)
@click.pass_context
@clear_errors
def preview(
    ctx: click.Context,
    host: str,
    port: int,
    templates_dir: str | None,
    fixtures_dir: str,
    database: str | None,
    invoice_id: int | None,
    allowed_hosts: tuple[str, ...],
) -> None:
    """Live preview of invoice templates against fixtures, as HTML and PDF."""
    settings = settings_of(ctx)
    fixtures = Path(fixtures_dir)
    private: Path | None = None
    token: str | None = None
    if invoice_id is not None or database is not None:
        # Real data: only for who has the printed link, and gone when the preview stops.
        token = secrets.token_urlsafe(16)
    hosts = [*DEFAULT_HOSTS, *allowed_hosts]
    if host not in ("0.0.0.0", "::"):
        hosts.append(host)
    try:
        if invoice_id is not None:
            private = Path(tempfile.mkdtemp(prefix="invoicing-preview-"))  # 0700
            fixtures = _real_invoice_fixture(settings, database, invoice_id, fixtures, private)
        app = build_preview_app(
            settings,
            Path(templates_dir or settings.invoice.template_dir),
            fixtures,
            hosts=hosts,
            token=token,
            on_stop=(lambda: shutil.rmtree(private, ignore_errors=True)) if private else None,
        )
        address = f"http://{host}:{port}/" + (f"?token={token}" if token else "")
        click.echo(f"preview on {address}", err=True)
        uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2)
    finally:
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)


def _real_invoice_fixture(
    settings: Settings, database: str | None, invoice_id: int, fixtures: Path, into: Path
) -> Path:
    """A fixture folder holding the shipped fixtures and invoice-N, read from the database."""
    if database:
        settings = settings.model_copy(update={"database": DatabaseSettings(url=database)})

    async def read() -> dict[str, object]:
        db = open_database(settings)
        try:
            invoice = await get_invoice(db, SYSTEM, invoice_id)
            if invoice is None:
                raise click.ClickException(f"invoice {invoice_id} does not exist")
            async with db.read() as session:
                customer = await session.get(Customer, invoice.customer_id)
            assert customer is not None  # a foreign key guarantees it
            lines = [line_of(row) for row in await lines_of(db, invoice_id)]
            secret = await link_secret(db, settings)
            today = db.now().date()
            link = pay_url(settings, secret, invoice.id, invoice.number, invoice.due_date, today)
            return document_to_mapping(invoice_document(invoice, customer, lines, link))
        finally:
            await db.dispose()

    data = asyncio.run(read())
    if fixtures.is_dir():
        for path in fixtures.iterdir():  # the files alone: the folder keeps its 0700
            if path.is_file():
                shutil.copyfile(path, into / path.name)
    (into / f"invoice-{invoice_id}.json").write_text(
        json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return into
