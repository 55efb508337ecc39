"""Races spread over two server processes on one MariaDB: each transaction is billed once,
each invoice paid once, each PDF rendered once."""

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from domain.bootstrap import Runtime
from domain.config import settings_from_mapping
from domain.model.access import SYSTEM
from domain.model.commands import GenerateRequest
from domain.model.enums import Role
from domain.ops.migrations import upgrade_async
from domain.services import billing
from domain.services.tokens import mint_token
from tests.conftest import TEMPLATES, _mysql_database
from tests.e2e.conftest import run_cli
from tests.e2e.processes import start_server, stop
from tests.helpers import make_charge, make_customer

GENERATE = 'mutation($c: ID!) { generateInvoice(input: {customerId: $c, startDate: "2025-01-01", endDate: "2025-01-31"}) { invoice { id lineCount } errors { code } } }'
PAY = "mutation($id: ID!) { payInvoice(input: {invoiceId: $id, method: CASH}) { invoice { status } errors { code } } }"


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    yield from _mysql_database()


@pytest.fixture
def two_servers(mariadb_url: str, tmp_path: Path) -> Iterator[tuple[list[str], list[Path]]]:
    config = tmp_path / "crm.yaml"
    config.write_text(
        f"invoice:\n  template_dir: {TEMPLATES}\n  render_workers: 1\n  pdf_cache:\n    prerender_on_generate: false\n"
    )
    env = {"DATABASE_URL": mariadb_url, "CRM_CONFIG": str(config)}
    logs = [tmp_path / f"server{number}.log" for number in (1, 2)]
    started = []
    try:
        for log in logs:
            started.append(start_server(env, log))
        yield [base for _, base in started], logs
    finally:
        for process, _ in started:
            stop(process)


async def _prepare(url: str) -> tuple[str, int, list[int], int]:
    await upgrade_async(url)
    settings = settings_from_mapping(
        {"database": {"url": url}, "invoice": {"template_dir": str(TEMPLATES)}}
    )
    runtime = Runtime.open(settings)
    try:
        busy = await make_customer(runtime.db, "Busy Ltd")
        charges = [
            await make_charge(runtime.db, busy.id, created_at=datetime(2025, 1, day, tzinfo=UTC))
            for day in range(1, 13)
        ]
        other = await make_customer(runtime.db, "Payer Ltd")
        await make_charge(
            runtime.db, other.id, "80.00", created_at=datetime(2025, 1, 3, tzinfo=UTC)
        )
        request = GenerateRequest(
            customer_id=other.id, start_date=date(2025, 1, 1), end_date=date(2025, 1, 31)
        )
        invoice = await billing.generate_invoice(runtime.db, settings, SYSTEM, request)
        token = (await mint_token(runtime.db, Role.STAFF, "race")).token
    finally:
        await runtime.close()
    return token, busy.id, [c.id for c in charges], invoice.id


async def test_races_across_two_processes(
    two_servers: tuple[list[str], list[Path]], mariadb_url: str
) -> None:
    servers, logs = two_servers
    token, customer_id, charge_ids, invoice_id = await _prepare(mariadb_url)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(headers=headers, timeout=60) as client:

        async def gql(n: int, query: str, variables: dict) -> dict:
            response = await client.post(
                f"{servers[n % 2]}/graphql", json={"query": query, "variables": variables}
            )
            assert response.status_code == 200, response.text
            return next(iter(response.json()["data"].values()))

        generated = await asyncio.gather(
            *(gql(n, GENERATE, {"c": str(customer_id)}) for n in range(8))
        )
        winners = [g for g in generated if g["invoice"]]
        assert len(winners) == 1 and winners[0]["invoice"]["lineCount"] == len(charge_ids)
        assert {g["errors"][0]["code"] for g in generated if not g["invoice"]} == {
            "NO_TRANSACTIONS"
        }

        paid = await asyncio.gather(*(gql(n, PAY, {"id": str(invoice_id)}) for n in range(8)))
        assert sum(1 for p in paid if not p["errors"]) == 1
        assert {p["errors"][0]["code"] for p in paid if p["errors"]} == {"ALREADY_PAID"}

        downloads = await asyncio.gather(
            *(client.get(f"{servers[n % 2]}/crm/invoice/{invoice_id}/pdf") for n in range(6))
        )
        assert all(d.status_code == 200 for d in downloads)
        assert len({d.content for d in downloads}) == 1
    renders = sum(log.read_text().count(f"invoice {invoice_id}: rendered") for log in logs)
    assert renders == 1, [log.read_text()[-2000:] for log in logs]
    checked = run_cli("db", "check", env={"DATABASE_URL": mariadb_url})
    assert checked.returncode == 0, checked.stderr
