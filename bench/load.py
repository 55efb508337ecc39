"""Load: concurrent clients mixing list, detail, stats, generate and pay against
`invoicing serve --workers N` on the bench dataset (bench/dataset.py), 127.0.0.1 only.

    .venv/bin/python bench/load.py [--clients 50] [--seconds 60] [--workers 1 2]

Bounded in time and in requests (--max-requests). Counts as an error any answer that is
not HTTP 200 or carries GraphQL errors; business refusals (ALREADY_PAID, NO_TRANSACTIONS)
are answers, not errors. The load generator shares the machine's two cores with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench._server import invoicing  # noqa: E402
from bench.dataset import BENCH_TOKEN, DEFAULT_URL  # noqa: E402

OPERATIONS = {
    "list": (
        40,
        "query($p: Int!) { invoices(page: $p, perPage: 25) { totalCount items { id number total status customer { name } } } }",
    ),
    "detail": (
        25,
        "query($id: ID!) { invoice(id: $id) { number total actions lines { title taxDisplay } customer { name } } }",
    ),
    "stats": (
        15,
        "query($c: ID) { invoiceStats(customerId: $c) { total { display } thisMonth { trend } } }",
    ),
    "generate": (
        10,
        "mutation($c: ID!) { generateInvoice(input: {customerId: $c}) { invoice { id } errors { code } } }",
    ),
    "pay": (
        10,
        "mutation($id: ID!) { payInvoice(input: {invoiceId: $id, method: CASH}) { invoice { status } errors { code } } }",
    ),
}


def variables(operation: str, rng: random.Random) -> dict:
    if operation == "list":
        return {"p": rng.randint(1, 200)}
    if operation == "detail":
        return {"id": str(rng.randint(1, 1_000_000))}
    if operation == "stats":
        return {"c": str(rng.randint(1, 100_000)) if rng.random() < 0.7 else None}
    if operation == "generate":
        return {"c": str(rng.randrange(1, 100_000, 10))}  # customers with this month's charges
    return {"id": str(rng.randint(900_000, 1_000_000))}  # recent invoices, some unpaid


async def run(
    base: str, clients: int, seconds: float, max_requests: int
) -> tuple[dict, int, int, float]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors = 0
    done = 0
    names = list(OPERATIONS)
    weights = [OPERATIONS[name][0] for name in names]
    deadline = time.monotonic() + seconds
    started = time.monotonic()

    async def client(number: int) -> None:
        nonlocal errors, done
        rng = random.Random(number)
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {BENCH_TOKEN}"}, timeout=30
        ) as http:
            while time.monotonic() < deadline and done < max_requests:
                operation = rng.choices(names, weights)[0]
                begun = time.perf_counter()
                try:
                    response = await http.post(
                        "/graphql",
                        json={
                            "query": OPERATIONS[operation][1],
                            "variables": variables(operation, rng),
                        },
                    )
                    failed = response.status_code != 200 or bool(response.json().get("errors"))
                except httpx.HTTPError:
                    failed = True
                latencies[operation].append((time.perf_counter() - begun) * 1000)
                errors += failed
                done += 1

    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies, errors, done, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    config = Path(tempfile.mkdtemp()) / "load.yaml"
    config.write_text(
        f"invoice:\n  template_dir: {REPO / 'invoice_templates'}\n  pdf_cache:\n    prerender_on_generate: false\n"
        "database:\n  pool_size: 20\n"
    )
    for workers in args.workers:
        server = contextlib.ExitStack()
        env = {"DATABASE_URL": args.url, "CRM_CONFIG": str(config)}
        base = server.enter_context(invoicing("serve", "--workers", str(workers), env=env))
        try:
            latencies, errors, done, elapsed = asyncio.run(
                run(base, args.clients, args.seconds, args.max_requests)
            )
        finally:
            server.close()
        print(
            f"\n{workers} worker(s), {args.clients} clients, {elapsed:.0f} s: {done} requests, "
            f"{done / elapsed:.0f} requests/s, {errors} errors"
        )
        print(f"  {'operation':10s} {'count':>7s} {'p50 ms':>8s} {'p99 ms':>8s}")
        for operation, values in sorted(latencies.items()):
            ordered = sorted(values)
            p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            print(f"  {operation:10s} {len(values):7d} {statistics.median(values):8.1f} {p99:8.1f}")


if __name__ == "__main__":
    main()
