"""Hostile clients against `invoicing serve` (SQLite, on 127.0.0.1), /healthz timed while
each attack runs. Two tables:

1. Hostile documents (issue 15): the 490-field document (1.5 s of validation each, on the
   event loop, before the query budget; anchor: 16 in parallel stalled /healthz for 24 s),
   in bursts of 16 and as 16 clients sending without pause, with the budget and without.
2. The new edges (issue 26), each beside the figure the issue measured before:
   - batch: 4 clients each sending batches of 10 near-limit queries without pause, with a
     customer token and with a staff token (before: one batch took 7.3 s and 55 s, /healthz
     up to 34 s);
   - fan-out: one customer token opening 200 sockets of 10 subscriptions each, then 6
     invoice events (before: /healthz max 9.4 s, server RSS 517 MB);
   - APQ: one customer registering 40 comment-padded 950 KB documents (before: the
     database grew 43 MB).

    .venv/bin/python bench/hostile.py [--seconds 10] [--only documents|edges]

Target: /healthz p99 under 100 ms while each attack runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench._server import invoicing, invoicing_process, rss_mb  # noqa: E402
from bench._stats import percentile  # noqa: E402
from domain.bootstrap import open_database  # noqa: E402
from domain.config import settings_from_mapping  # noqa: E402
from domain.model.enums import Role  # noqa: E402
from domain.ops.migrations import upgrade  # noqa: E402
from domain.services.tokens import mint_token  # noqa: E402

HOSTILE = "{ viewer { customer { " + " ".join(["invoices { items { id } }"] * 490) + " } } }"
REAL = "{ invoices(perPage: 25) { totalCount items { id number total } } }"


async def staff_token(url: str) -> str:
    db = open_database(settings_from_mapping({"database": {"url": url}}))
    try:
        return (await mint_token(db, Role.STAFF, "bench")).token
    finally:
        await db.dispose()


def attack(base: str, token: str, mode: str, stop: Any, answers: Any) -> None:
    """16 clients sending the hostile document: all at once then waiting for every answer
    (mode "bursts"), or each again as soon as it is answered ("sustained")."""
    answered: dict[str, int] = {}
    sent = iter(range(10**9))
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}"}

    def send(http: httpx.Client) -> None:
        with lock:
            n = next(sent)
        # A new trailing space each time: no two documents are the same text.
        body = http.post("/graphql", json={"query": HOSTILE + " " * (n % 5000)}).json()
        code = (body.get("errors") or [{}])[0].get("extensions", {}).get("code", "ok")
        with lock:
            answered[code] = answered.get(code, 0) + 1

    def sustained() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
            while not stop.is_set():
                send(http)

    if mode == "sustained":
        threads = [threading.Thread(target=sustained) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        clients = [httpx.Client(base_url=base, headers=headers, timeout=120) for _ in range(16)]
        while not stop.is_set():
            burst = [threading.Thread(target=send, args=(c,)) for c in clients]
            for thread in burst:
                thread.start()
            for thread in burst:
                thread.join()
            time.sleep(0.5)
        for client in clients:
            client.close()
    answers.put(answered)


def run(url: str, token: str, seconds: float, budget: bool, mode: str) -> dict[str, Any]:
    config = Path(tempfile.mkdtemp()) / "hostile.yaml"
    lifted = "  max_selections: 100000\n  max_fields: 100000\n"
    config.write_text("limits:\n" + ("" if budget else lifted) + "  max_tokens: 4000\n")
    with invoicing("serve", env={"DATABASE_URL": url, "CRM_CONFIG": str(config)}) as base:
        # The attackers run in a process of their own, so that the probes below measure
        # the server, not this process's threads queueing for Python's lock.
        answers: multiprocessing.Queue[dict[str, int]] = multiprocessing.Queue()
        stop = multiprocessing.Event()
        attackers = None
        if mode != "quiet":
            attackers = multiprocessing.Process(
                target=attack, args=(base, token, mode, stop, answers)
            )
            attackers.start()
            time.sleep(1)
        health, real = [], []
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120
        ) as client:
            client.post("/graphql", json={"query": REAL})  # remembered from here on

            def probe(path: str, json: dict | None = None) -> float:
                started = time.perf_counter()
                response = client.get(path) if json is None else client.post(path, json=json)
                assert response.status_code == 200, response.text
                return time.perf_counter() - started

            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                health.append(probe("/healthz"))
                real.append(probe("/graphql", {"query": REAL}))
                time.sleep(0.05)
        answered: dict[str, int] = {}
        if attackers is not None:
            stop.set()
            answered = answers.get(timeout=300)
            attackers.join()
    return {"health": health, "real": real, "answered": answered}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--only", choices=["documents", "edges"], default=None)
    args = parser.parse_args()
    if args.only in (None, "documents"):
        documents(args)
    if args.only in (None, "edges"):
        edges(args.seconds)


def documents(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite+aiosqlite:///{folder / 'hostile.db'}"
    upgrade(url)
    token = asyncio.run(staff_token(url))
    rows = []
    for label, budget, mode in (
        ("quiet", True, "quiet"),
        ("bursts of 16, budget", True, "bursts"),
        ("bursts of 16, no budget", False, "bursts"),
        ("16 sustained, budget", True, "sustained"),
        ("16 sustained, no budget", False, "sustained"),
    ):
        found = run(url, token, args.seconds, budget, mode)
        health, real = found["health"], found["real"]
        rows.append(
            (
                label,
                f"{statistics.median(health) * 1000:.1f} ms",
                f"{percentile(health, 0.95) * 1000:.1f} ms",
                f"{max(health) * 1000:.1f} ms",
                f"{statistics.median(real) * 1000:.1f} ms",
                f"{max(real) * 1000:.1f} ms",
                ", ".join(f"{k} {v}" for k, v in sorted(found["answered"].items())) or "-",
            )
        )
    header = ("hostile documents", "/healthz p50", "p95", "max", "invoices p50", "max", "answers")
    print(f"\nThe 490-field document against `invoicing serve`, {args.seconds:g} s each")
    print("(anchor, before the budget: 16 in parallel stalled /healthz for 24 s)")
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  " + "  ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)))


# --- issue 26's edges -------------------------------------------------------------------

INVOICE_FIELDS = (
    "id number title startDate endDate dueDate createdAt subtotal tax total status void "
    "paidAt lineCount pdfUrl shareUrl actions customer { name } events { kind actor } "
    "lines { title retailCost taxPercentage taxAmount taxDisplay }"
)
# 29 aliases of a 100-invoice page: about 950 fields, inside every per-document limit.
NEAR_LIMIT = (
    "{ "
    + " ".join(
        f"a{n}: invoices(perPage: 100) {{ items {{ {INVOICE_FIELDS} }} }}" for n in range(29)
    )
    + " }"
)
# An ordinary page a dashboard asks for: ten of them in a batch fit the request's budget.
REAL_PAGE = "{ invoices(perPage: 25) { items { id number total status customer { name } lines { title retailCost } } } }"
BEFORE = {
    "batch, staff, 10 real pages": "(no anchor: ordinary work)",
    "batch, customer": "one batch 7.3 s",
    "batch, staff": "one batch 55 s, /healthz up to 34 s",
    "fan-out": "/healthz max 9.4 s, RSS 517 MB",
    "APQ": "database +43 MB",
}


def _prepared_database() -> tuple[str, str, str, Path]:
    """A migrated, seeded SQLite database; a staff token and a token of the customer with
    the most invoices."""
    folder = Path(tempfile.mkdtemp())
    path = folder / "edges.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)

    async def prepare() -> tuple[str, str]:
        settings = settings_from_mapping({"database": {"url": url}})
        db = open_database(settings)
        try:
            from sqlalchemy import func, select

            from domain.model.entities import Invoice
            from domain.ops.seed import seed_demo_data

            await seed_demo_data(db, settings, transactions=600)
            async with db.read() as session:
                customer_id = (
                    await session.execute(
                        select(Invoice.customer_id)
                        .group_by(Invoice.customer_id)
                        .order_by(func.count().desc())
                        .limit(1)
                    )
                ).scalar_one()
            staff = (await mint_token(db, Role.STAFF, "bench")).token
            customer = (await mint_token(db, Role.CUSTOMER, "bench", customer_id)).token
            return staff, customer
        finally:
            await db.dispose()

    staff, customer = asyncio.run(prepare())
    return url, staff, customer, path


class HealthProbe:
    """/healthz every 50 ms in a thread of its own until stopped; the latencies."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.times: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=120) as client:
            while not self.stop.is_set():
                started = time.perf_counter()
                client.get("/healthz")
                self.times.append(time.perf_counter() - started)
                time.sleep(0.05)

    def finish(self) -> list[float]:
        self.stop.set()
        self.thread.join()
        return self.times


def _batches(base: str, token: str, seconds: float, answers: Any, query: str = NEAR_LIMIT) -> None:
    """4 clients sending batches of 10 queries (near-limit ones unless told) without pause."""
    codes: dict[str, int] = {}
    durations: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=300
        ) as http:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                answer = http.post("/graphql", json=[{"query": query}] * 10)
                took = time.perf_counter() - started
                assert answer.status_code == 200, answer.text[:300]
                with lock:
                    durations.append(took)
                    for item in answer.json():
                        code = (
                            (item.get("errors") or [{}])[0].get("extensions", {}).get("code", "ok")
                        )
                        codes[code] = codes.get(code, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answers.put({"codes": codes, "slowest": max(durations, default=0.0)})


def _real_batches(base: str, token: str, seconds: float, answers: Any) -> None:
    _batches(base, token, seconds, answers, REAL_PAGE)


def _fan_out(base: str, customer: str, staff: str, answers: Any) -> None:
    """200 sockets x 10 subscriptions from one customer token, then 6 invoice events."""
    import websockets

    url = base.replace("http://", "ws://") + "/graphql"
    subscription = (
        "subscription { invoiceChanged { sequence kind invoice { id number total "
        "customer { name } lines { title retailCost } } } }"
    )

    async def attack() -> dict[str, Any]:
        refused = accepted = subscribed = received = 0
        sockets = []
        for _ in range(200):
            try:
                ws = await websockets.connect(url, subprotocols=["graphql-transport-ws"])
                await ws.send(
                    json.dumps(
                        {
                            "type": "connection_init",
                            "payload": {"Authorization": f"Bearer {customer}"},
                        }
                    )
                )
                if json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] != "connection_ack":
                    raise websockets.ConnectionClosed(None, None)
                accepted += 1
                sockets.append(ws)
            except (websockets.ConnectionClosed, TimeoutError):
                refused += 1
        for ws in sockets:
            for n in range(10):
                await ws.send(
                    json.dumps(
                        {"id": str(n), "type": "subscribe", "payload": {"query": subscription}}
                    )
                )
        await asyncio.sleep(1.0)
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            http.headers["Authorization"] = f"Bearer {customer}"  # its own unpaid invoices
            unpaid = (
                await http.post(
                    "/graphql",
                    json={
                        "query": "{ invoices(perPage: 6, filter: {status: UNPAID}) { items { id } } }"
                    },
                )
            ).json()["data"]["invoices"]["items"]
            http.headers["Authorization"] = f"Bearer {staff}"
            for invoice in unpaid:
                await http.post(
                    "/graphql",
                    json={
                        "query": "mutation($i: ID!) { payInvoice(input: {invoiceId: $i, "
                        "method: CASH}) { errors { code } } }",
                        "variables": {"i": invoice["id"]},
                    },
                )

        async def drain(ws: Any) -> tuple[int, int]:
            got = errors = 0
            try:
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 3))
                    if message["type"] == "error":
                        errors += 1
                    elif message["type"] == "next":
                        payload = message["payload"]
                        errors += bool(payload.get("errors"))
                        got += bool(payload.get("data"))
            except (TimeoutError, websockets.ConnectionClosed):
                return got, errors

        for got, errors in await asyncio.gather(*(drain(ws) for ws in sockets)):
            received += got
            subscribed += errors
        for ws in sockets:
            await ws.close()
        return {
            "sockets": f"{accepted} accepted, {refused} refused",
            "subscriptions refused": subscribed,
            "events received": received,
        }

    answers.put(asyncio.run(attack()))


def _apq(base: str, customer: str, answers: Any) -> None:
    """One customer registering 40 comment-padded ~950 KB documents."""
    import hashlib

    stored = 0
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {customer}"}, timeout=120
    ) as http:
        for n in range(40):
            document = f"query P{n} {{ __typename }}\n# " + "padding " * 118_000
            digest = hashlib.sha256(document.encode()).hexdigest()
            persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
            answer = http.post("/graphql", json={"query": document, "extensions": persisted})
            assert answer.status_code == 200, answer.text[:300]
            again = http.post("/graphql", json={"extensions": persisted}).json()
            stored += "errors" not in again
    answers.put({"documents remembered": stored})


def edges(seconds: float) -> None:
    url, staff, customer, path = _prepared_database()
    rows = []
    cases: list[tuple[str, Any, tuple[Any, ...]]] = [
        ("batch, staff, 10 real pages", _real_batches, (staff, seconds)),
        ("batch, customer", _batches, (customer, seconds)),
        ("batch, staff", _batches, (staff, seconds)),
        ("fan-out", _fan_out, (customer, staff)),
        ("APQ", _apq, (customer,)),
    ]
    for label, attack_of, args in cases:
        with invoicing_process("serve", env={"DATABASE_URL": url}) as (base, pid):
            size_before = path.stat().st_size
            probe = HealthProbe(base)
            answers: multiprocessing.Queue[dict[str, Any]] = multiprocessing.Queue()
            attacker = multiprocessing.Process(target=attack_of, args=(base, *args, answers))
            attacker.start()
            peak = 0.0
            while attacker.is_alive():
                peak = max(peak, rss_mb(pid))
                attacker.join(0.2)
            health = probe.finish()
            found = answers.get(timeout=60)
            grown = (path.stat().st_size - size_before) / 1e6
        rows.append(
            (
                label,
                f"{statistics.median(health) * 1000:.1f} ms",
                f"{percentile(health, 0.99) * 1000:.1f} ms",
                f"{max(health) * 1000:.1f} ms",
                f"{peak:.0f} MB",
                f"{grown:+.1f} MB",
                "; ".join(f"{k}: {v}" for k, v in found.items()),
                BEFORE[label],
            )
        )
    header = (
        "issue 26 edge",
        "/healthz p50",
        "p99",
        "max",
        "server RSS",
        "db",
        "answers",
        "before",
    )
    print("\nThe new edges against `invoicing serve` (goal: /healthz p99 under 100 ms)")
    _table(header, rows)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
