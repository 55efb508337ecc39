"""A server killed (kill -9) while Stripe charges a card: the charge happened at Stripe,
its answer reached nobody. `invoicing payments reconcile` asks Stripe what became of the
attempt and settles it; nothing is charged a second time, and `invoicing db check` passes."""

import asyncio
import os
import signal
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from domain.bootstrap import Runtime
from domain.config import settings_from_mapping
from domain.model.access import SYSTEM
from domain.model.commands import GenerateRequest
from domain.model.entities import Invoice
from domain.model.enums import Role
from domain.ops.migrations import upgrade_async
from domain.services import billing
from domain.services.payment_methods import attach_payment_method
from domain.services.tokens import mint_token
from tests.conftest import TEMPLATES
from tests.e2e.conftest import run_cli
from tests.e2e.processes import start_server, stop
from tests.fakes.stripe_server import FakeStripe
from tests.helpers import make_charge, make_customer

PAY = "mutation($id: ID!) { payInvoice(input: {invoiceId: $id, method: STRIPE}) { invoice { status } errors { code } } }"


def _config(tmp_path: Path, stripe: FakeStripe) -> Path:
    config = tmp_path / "crm.yaml"
    config.write_text(
        f"invoice:\n  template_dir: {TEMPLATES}\n  render_workers: 1\n"
        "  pdf_cache:\n    prerender_on_generate: false\n"
        f"stripe:\n  secret_key: sk_test_fake\n  api_base: {stripe.url}\n  max_network_retries: 0\n"
        "payments:\n  unknown_after_seconds: 0\n  reconcile_every_seconds: 3600\n"
    )
    return config


async def _unpaid_invoice(url: str, config: Path) -> tuple[int, str]:
    await upgrade_async(url)
    from domain.config import load_settings

    settings = load_settings(config, environ={"DATABASE_URL": url})
    runtime = Runtime.open(settings)
    try:
        customer = await make_customer(runtime.db, "Crash Test Pty Ltd")
        await attach_payment_method(
            runtime.db, settings, SYSTEM, customer.id, "pm_card_visa", False, runtime.cards
        )
        await make_charge(
            runtime.db, customer.id, "100.00", tax="10", created_at=datetime(2025, 1, 5, tzinfo=UTC)
        )
        request = GenerateRequest(
            customer_id=customer.id, start_date=date(2025, 1, 1), end_date=date(2025, 1, 31)
        )
        invoice = await billing.generate_invoice(runtime.db, settings, SYSTEM, request)
        token = (await mint_token(runtime.db, Role.STAFF, "crash test")).token
        return invoice.id, token
    finally:
        await runtime.close()


async def _status(url: str, invoice_id: int) -> str:
    runtime = Runtime.open(settings_from_mapping({"database": {"url": url}}))
    try:
        async with runtime.db.read() as session:
            invoice = await session.get(Invoice, invoice_id)
            assert invoice is not None
            return invoice.status.value
    finally:
        await runtime.close()


async def test_a_server_killed_mid_charge_is_settled_by_asking_stripe_with_no_second_charge(
    empty_database_url: str, tmp_path: Path
) -> None:
    stripe = FakeStripe()
    server = None
    try:
        config = _config(tmp_path, stripe)
        invoice_id, token = await _unpaid_invoice(empty_database_url, config)
        env = {"DATABASE_URL": empty_database_url, "CRM_CONFIG": str(config)}
        server, base = start_server(env, tmp_path / "server.log")
        killed = threading.Event()

        def kill_the_server() -> None:
            assert server is not None
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
            killed.set()

        stripe.on_charge = kill_the_server  # Stripe charges; the answer has nowhere to go

        def pay() -> None:
            try:
                httpx.post(
                    f"{base}/graphql",
                    json={"query": PAY, "variables": {"id": str(invoice_id)}},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                )
            except httpx.HTTPError:
                pass  # the server died under the request

        await asyncio.to_thread(pay)
        for _ in range(50):  # Stripe finishes the charge after the server is gone
            if stripe.charges:
                break
            await asyncio.sleep(0.1)
        assert killed.is_set() and len(stripe.charges) == 1
        assert await _status(empty_database_url, invoice_id) == "UNPAID"

        stripe.on_charge = None
        reconciled = run_cli("payments", "reconcile", env=env)
        assert reconciled.returncode == 0, reconciled.stderr
        assert "1 open attempts: 1 invoice paid" in reconciled.stdout
        assert await _status(empty_database_url, invoice_id) == "PAID"
        assert len(stripe.charges) == 1
        again = run_cli("payments", "reconcile", env=env)
        assert "no open payment attempts" in again.stdout
        checked = run_cli("db", "check", env=env)
        assert checked.returncode == 0, checked.stderr
    finally:
        if server is not None:
            stop(server)
        stripe.close()
