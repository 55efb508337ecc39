"""Live updates over graphql-transport-ws, across processes: a subscriber on one API
process sees what a client does through another, a customer token only its own, and a
socket without a token is closed."""

import asyncio
import json
from pathlib import Path

import websockets

from tests.e2e.conftest import run_cli
from tests.e2e.processes import start_server, stop
from tests.e2e.staff_api import add_charge, generate, invoice_for, pay_cash

SUBSCRIBE = """subscription($c: ID) {
  invoiceChanged(customerId: $c) { sequence kind invoice { id number status customer { name } } }
}"""


class Subscriber:
    def __init__(self, base: str, token: str | None, customer_id: str | None = None) -> None:
        self.url = base.replace("http://", "ws://") + "/graphql"
        self.token = token
        self.variables = {"c": customer_id}
        self.received: list[dict] = []
        self.closed: int | None = None
        self.ready = asyncio.Event()

    async def run(self) -> None:
        async with websockets.connect(self.url, subprotocols=["graphql-transport-ws"]) as ws:
            payload = {"Authorization": f"Bearer {self.token}"} if self.token else {}
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            try:
                ack = json.loads(await ws.recv())
            except websockets.ConnectionClosed as closed:
                self.closed = closed.rcvd.code if closed.rcvd else None
                self.ready.set()
                return
            assert ack["type"] == "connection_ack"
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": SUBSCRIBE, "variables": self.variables},
                    }
                )
            )
            await asyncio.sleep(0.6)  # the feed starts after its first subscriber
            self.ready.set()
            async for raw in ws:
                message = json.loads(raw)
                if message["type"] == "next":
                    self.received.append(message["payload"]["data"]["invoiceChanged"])


def changes(subscriber: Subscriber) -> list[dict]:
    """What happened to the invoices, PDF renders aside (they finish in their own time)."""
    return [c for c in subscriber.received if c["kind"] != "PDF_READY"]


async def test_a_change_made_on_one_process_reaches_subscribers_on_another(
    tmp_path: Path, empty_database_url: str
) -> None:
    env = {"DATABASE_URL": empty_database_url}  # SQLite, then MariaDB
    assert run_cli("db", "upgrade", env=env).returncode == 0
    staff = run_cli("token", "create", "--role", "staff", "--name", "ops", env=env)
    token = staff.stdout.strip().splitlines()[-1]
    writer, writer_base = start_server(env, tmp_path / "writer.log")
    reader, reader_base = start_server(env, tmp_path / "reader.log")
    try:
        acme, _ = await invoice_for(writer_base, token, "Acme")  # before anyone listens
        portal = (
            run_cli("token", "create", "--role", "customer", "--customer-id", acme, env=env)
            .stdout.strip()
            .splitlines()[-1]
        )
        everyone = Subscriber(reader_base, token)
        acme_only = Subscriber(reader_base, portal)
        acme_by_staff = Subscriber(reader_base, token, customer_id=acme)
        nobody = Subscriber(reader_base, None)
        tasks = [asyncio.create_task(s.run()) for s in (everyone, acme_only, acme_by_staff, nobody)]
        for subscriber in (everyone, acme_only, acme_by_staff, nobody):
            await asyncio.wait_for(subscriber.ready.wait(), 15)

        _, globex_invoice = await invoice_for(writer_base, token, "Globex")
        await add_charge(writer_base, token, acme, "Extra", "5.00")
        acme_invoice = await generate(writer_base, token, acme)
        await pay_cash(writer_base, token, acme_invoice)

        def rendered(subscriber: Subscriber) -> set[str]:
            return {c["invoice"]["id"] for c in subscriber.received if c["kind"] == "PDF_READY"}

        for _ in range(120):
            if (
                len(changes(everyone)) >= 3
                and len(changes(acme_only)) >= 2
                and {globex_invoice, acme_invoice} <= rendered(everyone)
            ):
                break
            await asyncio.sleep(0.25)
        await asyncio.sleep(0.5)  # anything that should not come has had time to
        for task in tasks:
            task.cancel()
    finally:
        stop(writer)
        stop(reader)

    seen = [(c["kind"], c["invoice"]["id"]) for c in changes(everyone)]
    assert seen == [
        ("GENERATED", globex_invoice),
        ("GENERATED", acme_invoice),
        ("PAID", acme_invoice),
    ]
    # The PDFs rendered in the background after generating are announced as they are ready.
    assert {globex_invoice, acme_invoice} <= rendered(everyone)
    sequences = [c["sequence"] for c in everyone.received]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    assert changes(everyone)[-1]["invoice"]["status"] == "PAID"  # read fresh, not cached
    assert [(c["kind"], c["invoice"]["id"]) for c in changes(acme_only)] == seen[1:]
    assert globex_invoice not in rendered(acme_only)
    assert acme_by_staff.received == acme_only.received
    assert nobody.closed == 4403 and nobody.received == []
