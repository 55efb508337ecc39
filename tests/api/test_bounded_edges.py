"""The small edges an attacker pokes at: an error message quotes only a bounded part of
what it was sent, an amount too large says so, ids beyond any table's range are "no such
thing", a connection that never finishes its headers is closed, and the command line run
outside the project neither guesses nor creates an empty database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
import websockets
from click.testing import CliRunner

from cli.common import PROJECT, discovered_settings
from cli.http_protocol import HeaderTimeoutProtocol
from cli.main import cli
from domain.bootstrap import Runtime
from domain.config import settings_from_mapping
from graph.app import build_app
from tests.api.test_edge_inputs import CHARGE
from tests.api.test_invoices import GENERATE
from tests.helpers import Api, make_charge, make_customer, snapshot
from tests.live_server import serving


async def test_an_error_quotes_a_few_of_thousands_of_unknown_ids(api: Api) -> None:
    customer = await make_customer(api.db)
    await make_charge(api.db, customer.id)
    excluded = [str(n) for n in range(10**9, 10**9 + 20_000)]
    before = await snapshot(api.db)
    data = await api.gql(
        GENERATE, {"input": {"customerId": str(customer.id), "excludedTransactionIds": excluded}}
    )
    error = data["generateInvoice"]["errors"][0]
    assert error["code"] == "TRANSACTION_UNAVAILABLE"
    assert "and 19990 more" in error["message"] and len(error["message"]) < 300
    assert await snapshot(api.db) == before


async def test_an_amount_too_large_for_its_column_says_so(api: Api) -> None:
    customer = await make_customer(api.db)
    charge = {"customerId": str(customer.id), "title": "x", "retailCost": "99999999999999999999.99"}
    errors = await api.gql_errors(CHARGE, {"input": charge})
    assert "too large for an amount" in errors[0]["message"]
    assert len(errors[0]["message"]) < 300
    charge["retailCost"] = "x" * 200_000
    errors = await api.gql_errors(CHARGE, {"input": charge})
    assert "is not an amount" in errors[0]["message"] and len(errors[0]["message"]) <= 500


@pytest.mark.parametrize("ident", ["999999999999999999999999", "9223372036854775808", "0"])
async def test_an_id_beyond_any_table_is_no_such_thing(api: Api, ident: str) -> None:
    data = await api.gql("query($id: ID!) { invoice(id: $id) { id } }", {"id": ident})
    assert data == {"invoice": None}
    token = await api.staff_token()
    pdf = await api.client.get(
        f"/crm/invoice/{ident}/pdf", headers={"Authorization": f"Bearer {token}"}
    )
    assert pdf.status_code == 404


async def test_a_connection_that_never_finishes_its_headers_is_closed(
    api: Api, runtime: Runtime
) -> None:
    settings = settings_from_mapping({"database": {"url": runtime.settings.database.url}})
    app = build_app(settings, runtime=runtime)
    async with serving(app, http=HeaderTimeoutProtocol, timeout_keep_alive=0.5) as base:
        port = int(base.rsplit(":", 1)[1])
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(20)]
        slow = [await asyncio.open_connection("127.0.0.1", port) for _ in range(20)]
        for _, writer in slow:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
            await writer.drain()
        url = base.replace("http://", "ws://") + "/graphql"
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
            await asyncio.sleep(1.5)
            for reader, _ in idle + slow:
                assert await asyncio.wait_for(reader.read(), 2) == b""  # closed by the server
            await ws.ping()  # a websocket that finished its handshake is left alone
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await asyncio.wait_for(reader.readline(), 5)).startswith(b"HTTP/1.1 200")
        writer.close()


def test_outside_the_project_the_cli_reads_the_projects_settings_and_database(
    tmp_path: Path,
) -> None:
    found = discovered_settings({}, tmp_path)
    assert found.database.url == f"sqlite+aiosqlite:///{PROJECT / 'var' / 'invoicing.db'}"
    # Its templates and outbox too: an invoice page rendered from elsewhere finds them.
    assert found.invoice.template_dir == str(PROJECT / "invoice_templates")
    assert found.email.outbox_dir == str(PROJECT / "var" / "outbox")
    elsewhere = discovered_settings({"DATABASE_URL": "sqlite+aiosqlite:///x.db"}, tmp_path)
    assert elsewhere.database.url == "sqlite+aiosqlite:///x.db"


def test_a_missing_embedded_database_is_one_line_and_never_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "invoicing.db"
    settings = settings_from_mapping({"database": {"url": f"sqlite+aiosqlite:///{missing}"}})
    ran = CliRunner().invoke(cli, ["token", "list"], obj={"settings": settings})
    assert ran.exit_code == 1
    assert ran.output.strip() == (
        f"Error: no database at {missing}: run `invoicing db upgrade` first (or set "
        "DATABASE_URL / CRM_CONFIG to the one you mean)"
    )
    assert not missing.exists() and not missing.parent.exists()


def test_the_cli_run_in_another_folder_creates_nothing_there(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("CRM_CONFIG", "DATABASE_URL")}
    ran = subprocess.run(
        [sys.executable, "-m", "cli.main", "token", "list"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(PROJECT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert list(tmp_path.iterdir()) == []
    assert "Traceback" not in ran.stderr
    if ran.returncode:
        assert len(ran.stderr.strip().splitlines()) == 1, ran.stderr
