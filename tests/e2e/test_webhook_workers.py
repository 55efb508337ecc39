"""Webhooks sent by `invoicing worker` processes through the real Redis, on MariaDB, for
changes made through an API process: signed, retried after 500s, and not lost when the
worker sending one is killed (kill -9) before the endpoint answered."""

import asyncio
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from domain.model import webhooks as rules
from tests.conftest import TEMPLATES
from tests.e2e.conftest import REDIS_URL, run_cli
from tests.e2e.processes import start_server, stop
from tests.e2e.staff_api import add_charge, generate, gql, invoice_for, pay_cash
from tests.e2e.test_redis_workers import start_worker
from tests.fakes.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.slow

TIMEOUT_SECONDS = 2  # a send's timeout; a dead sender's claim ends 5 s after it


def _environment(tmp_path: Path, url: str, queue_name: str) -> dict[str, str]:
    config = tmp_path / "crm.yaml"
    config.write_text(
        f"invoice:\n  template_dir: {TEMPLATES}\n  render_workers: 1\n"
        f"workers:\n  backend: redis\n  redis_url: {REDIS_URL}\n  queue_name: {queue_name}\n"
        "webhooks:\n  allow_private_targets: true\n  retry_base_seconds: 1\n"
        f"  timeout_seconds: {TIMEOUT_SECONDS}\n  dispatch_every_seconds: 1\n"
    )
    return {**os.environ, "DATABASE_URL": url, "CRM_CONFIG": str(config)}


async def _wait(condition: Callable[[], bool], seconds: float = 60) -> None:
    for _ in range(int(seconds * 10)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out waiting")


async def test_workers_deliver_signed_events_retry_500s_and_lose_nothing_when_killed(
    tmp_path: Path,
    mariadb_url: str,
    queue: str,
) -> None:
    env = _environment(tmp_path, mariadb_url, queue)
    assert run_cli("db", "upgrade", env=env).returncode == 0
    token = run_cli("token", "create", "--role", "staff", "--name", "erp", env=env)
    token = token.stdout.strip().splitlines()[-1]
    receiver = WebhookReceiver()
    api, base = start_server(env, tmp_path / "api.log")
    worker = start_worker(env, tmp_path / "worker1.log")
    survivor = None
    try:
        made = await gql(
            base,
            token,
            "mutation($u: String!) { createWebhookEndpoint(input: {url: $u, events: "
            "[INVOICE_GENERATED, INVOICE_PAID, INVOICE_PDF_READY]}) { endpoint { id } secret } }",
            {"u": receiver.url},
        )
        endpoint = made["createWebhookEndpoint"]["endpoint"]["id"]
        secret = made["createWebhookEndpoint"]["secret"]
        receiver.answer_with([500, 500])  # the first two tries fail
        customer, invoice = await invoice_for(base, token, "Acme")
        await pay_cash(base, token, invoice)
        # generated, paid and the PDF the worker rendered: each delivered despite the 500s.
        await _wait(lambda: len({e["type"] for e in receiver.events()}) == 3)
        assert {e["type"] for e in receiver.events()} == {
            "invoice.generated",
            "invoice.paid",
            "invoice.pdf_ready",
        }
        assert [r.status for r in receiver.received][:2] == [500, 500]
        for received in receiver.received:
            assert rules.verify(
                secret,
                received.headers["Invoicing-Signature"],
                received.body,
                now=int(time.time()),
            )
        log = await gql(
            base,
            token,
            "query($e: ID!) { webhookDeliveries(endpointId: $e) { items { status attempts } } }",
            {"e": endpoint},
        )
        items = log["webhookDeliveries"]["items"]
        assert {d["status"] for d in items} == {"SUCCEEDED"}
        assert sum(d["attempts"] for d in items) == 5

        # The worker is killed while the endpoint is still answering its request.
        receiver.hang_seconds, receiver.hang_requests = 1.5, 1
        arrived = receiver.arrived
        await add_charge(base, token, customer, "Extra", "5.00")
        second = await generate(base, token, customer)
        await _wait(lambda: receiver.arrived > arrived)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        survivor = start_worker(env, tmp_path / "worker2.log")

        async def deliveries_of_second() -> list[dict]:
            log = await gql(
                base,
                token,
                "query($e: ID!) { webhookDeliveries(endpointId: $e) { items { invoiceId eventType status attempts } } }",
                {"e": endpoint},
            )
            return [d for d in log["webhookDeliveries"]["items"] if d["invoiceId"] == second]

        for _ in range(600):
            of_second = await deliveries_of_second()
            if len(of_second) == 2 and {d["status"] for d in of_second} == {"SUCCEEDED"}:
                break
            await asyncio.sleep(0.1)
        assert sorted(d["eventType"] for d in of_second) == [
            "INVOICE_GENERATED",
            "INVOICE_PDF_READY",
        ]
        assert {d["status"] for d in of_second} == {"SUCCEEDED"}, of_second
        # The one cut short was tried again by the survivor (at least once: same event id).
        assert max(d["attempts"] for d in of_second) == 2
    finally:
        stop(api)
        stop(worker)
        if survivor is not None:
            stop(survivor)
        receiver.close()


async def test_with_the_local_backend_the_api_process_sends_webhooks_itself(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'local.db'}"
    config = tmp_path / "local.yaml"
    config.write_text(
        f"invoice:\n  template_dir: {TEMPLATES}\n  render_workers: 1\n"
        "webhooks:\n  allow_private_targets: true\n  dispatch_every_seconds: 0.5\n"
    )
    env = {"DATABASE_URL": url, "CRM_CONFIG": str(config)}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    token = run_cli("token", "create", "--role", "staff", "--name", "erp", env=env)
    token = token.stdout.strip().splitlines()[-1]
    receiver = WebhookReceiver()
    api, base = start_server(env, tmp_path / "api.log")
    try:
        made = await gql(
            base,
            token,
            "mutation($u: String!) { createWebhookEndpoint(input: {url: $u, events: "
            "[INVOICE_GENERATED]}) { secret } }",
            {"u": receiver.url},
        )
        secret = made["createWebhookEndpoint"]["secret"]
        await invoice_for(base, token, "Acme")
        await _wait(lambda: len(receiver.events()) == 1, seconds=30)
        [received] = receiver.received
        assert received.json()["type"] == "invoice.generated"
        assert rules.verify(
            secret, received.headers["Invoicing-Signature"], received.body, now=int(time.time())
        )
    finally:
        stop(api)
        receiver.close()
