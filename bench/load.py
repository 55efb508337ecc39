"""Load: concurrent clients mixing list, detail, stats, generate and pay against
`invoicing serve --workers N` on the bench dataset (bench/dataset.py), 127.0.0.1 only.

    .venv/bin/python bench/load.py [--clients 20] [--seconds 30] [--workers 1 2] [--seed N]
        [--only generate pay] [--prepared N]

Each worker count does the same work: every client draws its operations and their
arguments from the same seeded stream (the seed is printed; `--seed` replays a run), every
generate bills a customer prepared with fresh charges for that run, and every pay pays an
invoice that is unpaid when the run starts, each one once. Every answer is checked: an
HTTP status other than 200, GraphQL errors or a missing result count as errors, and a
business refusal (NO_TRANSACTIONS, ALREADY_PAID, ...) is counted per operation beside the
timings; either makes the run exit non-zero, since its timings would not be of the work
meant. The load generator shares the machine's two cores with the server.
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
from collections import Counter, defaultdict
from pathlib import Path

import httpx
from sqlalchemy import text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench._data import customer_with_charges  # noqa: E402
from bench._server import invoicing  # noqa: E402
from bench._stats import load_average, percentile  # noqa: E402
from bench.dataset import BENCH_TOKEN, DEFAULT_URL  # noqa: E402
from domain.bootstrap import open_database  # noqa: E402
from domain.config import settings_from_mapping  # noqa: E402
from domain.store.database import Database  # noqa: E402

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
# What each answer must carry for the request to have done its work.
RESULT = {
    "list": "invoices",
    "detail": "invoice",
    "stats": "invoiceStats",
    "generate": "generateInvoice",
    "pay": "payInvoice",
}
CHARGES_PER_GENERATE = 10


class Work:
    """What the mutations of one run act on, prepared before it starts: customers with
    unbilled charges and invoices still unpaid, each handed out once."""

    def __init__(self, customers: list[int], unpaid: list[int]) -> None:
        self.customers = customers
        self.unpaid = unpaid

    @classmethod
    async def prepare(cls, db: Database, generates: int, pays: int, tag: str) -> Work:
        customers = [
            await customer_with_charges(db, CHARGES_PER_GENERATE, f"Load {tag} {n}")
            for n in range(generates)
        ]
        async with db.read() as session:
            rows = await session.execute(
                text(
                    "SELECT id FROM invoices WHERE status = 'UNPAID' AND void = 0 AND total > 0"
                    " AND id > (SELECT MAX(id) - 200000 FROM invoices) ORDER BY id DESC LIMIT :n"
                ),
                {"n": pays},
            )
            unpaid = [row.id for row in rows]
        random.Random(tag).shuffle(unpaid)
        return cls(customers, unpaid)

    def variables(self, operation: str, rng: random.Random) -> dict | None:
        """The arguments of the next request, or None when this run's prepared work for
        the operation is used up."""
        if operation == "list":
            return {"p": rng.randint(1, 200)}
        if operation == "detail":
            return {"id": str(rng.randint(1, 1_000_000))}
        if operation == "stats":
            return {"c": str(rng.randint(1, 100_000)) if rng.random() < 0.7 else None}
        pool = self.customers if operation == "generate" else self.unpaid
        if not pool:
            return None
        key = "c" if operation == "generate" else "id"
        return {key: str(pool.pop())}


async def run(
    base: str, work: Work, seed: int, clients: int, seconds: float, max_requests: int
) -> tuple[dict, Counter, dict, int, float]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: Counter = Counter()
    refusals: dict[str, Counter] = defaultdict(Counter)
    done = 0
    names = list(OPERATIONS)
    weights = [OPERATIONS[name][0] for name in names]
    deadline = time.monotonic() + seconds
    started = time.monotonic()

    async def client(number: int) -> None:
        nonlocal done
        rng = random.Random(f"{seed}/{number}")
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {BENCH_TOKEN}"}, timeout=30
        ) as http:
            while time.monotonic() < deadline and done < max_requests:
                operation = rng.choices(names, weights)[0]
                arguments = work.variables(operation, rng)
                if arguments is None:
                    refusals[operation]["(prepared work used up)"] += 1
                    continue
                begun = time.perf_counter()
                try:
                    response = await http.post(
                        "/graphql",
                        json={"query": OPERATIONS[operation][1], "variables": arguments},
                    )
                    body = response.json() if response.status_code == 200 else {}
                except httpx.HTTPError as error:
                    errors[f"{operation}: {type(error).__name__}"] += 1
                    continue
                latencies[operation].append((time.perf_counter() - begun) * 1000)
                done += 1
                result = (body.get("data") or {}).get(RESULT[operation])
                if response.status_code != 200 or body.get("errors") or result is None:
                    errors[f"{operation}: HTTP {response.status_code} {str(body)[:120]}"] += 1
                elif isinstance(result, dict) and result.get("errors"):
                    for refusal in result["errors"]:
                        refusals[operation][refusal["code"]] += 1

    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies, errors, refusals, done, time.monotonic() - started


async def prepare(url: str, runs: int, generates: int, pays: int, seed: int) -> list[Work]:
    db = open_database(settings_from_mapping({"database": {"url": url}}))
    try:
        # Every run gets its own customers and unpaid invoices: the same amount of fresh work.
        plans = [await Work.prepare(db, generates, pays * runs, f"{seed}-{n}") for n in range(runs)]
    finally:
        await db.dispose()
    every_unpaid = plans[0].unpaid
    for n, plan in enumerate(plans):
        plan.unpaid = every_unpaid[n::runs][:pays]
    return plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=None, help="replay a run's requests")
    parser.add_argument(
        "--only", choices=list(OPERATIONS), nargs="+", help="these operations alone"
    )
    parser.add_argument(
        "--prepared",
        type=int,
        default=0,
        help="customers to generate for (and invoices to pay) per run",
    )
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int(time.time())
    if args.only:
        for name in [name for name in OPERATIONS if name not in args.only]:
            del OPERATIONS[name]
    # Enough prepared work for 250 requests/s of generates and of pays at their share.
    total = sum(weight for weight, _ in OPERATIONS.values())
    each = (
        int(
            args.seconds
            * 250
            * max(OPERATIONS.get(op, (0, ""))[0] / total for op in ("generate", "pay"))
        )
        + 10
    )
    plans = asyncio.run(prepare(args.url, len(args.workers), each, each, seed))
    config = Path(tempfile.mkdtemp()) / "load.yaml"
    config.write_text(
        f"invoice:\n  template_dir: {REPO / 'invoice_templates'}\n  pdf_cache:\n    prerender_on_generate: false\n"
        "database:\n  pool_size: 10\n"
    )
    print(f"seed {seed}; load average before: {load_average()}")
    failed = False
    for workers, work in zip(args.workers, plans, strict=True):
        server = contextlib.ExitStack()
        env = {"DATABASE_URL": args.url, "CRM_CONFIG": str(config)}
        base = server.enter_context(invoicing("serve", "--workers", str(workers), env=env))
        try:
            latencies, errors, refusals, done, elapsed = asyncio.run(
                run(base, work, seed, args.clients, args.seconds, args.max_requests)
            )
        finally:
            server.close()
        load = load_average()
        print(
            f"\n{workers} worker(s), {args.clients} clients, {elapsed:.0f} s: {done} requests, "
            f"{done / elapsed:.0f} requests/s, {sum(errors.values())} errors; load average {load}"
        )
        print(f"  {'operation':10s} {'count':>7s} {'p50 ms':>8s} {'p99 ms':>8s}  refusals")
        for operation in OPERATIONS:
            ordered = sorted(latencies.get(operation, []))
            if not ordered:
                continue
            p99 = percentile(ordered, 0.99)
            refused = ", ".join(f"{code} {n}" for code, n in refusals[operation].items()) or "0"
            print(
                f"  {operation:10s} {len(ordered):7d} {statistics.median(ordered):8.1f} {p99:8.1f}  {refused}"
            )
        for what, n in errors.most_common(5):
            print(f"  error x{n}: {what}")
        failed = failed or bool(errors) or any(refusals.values())
    if failed:
        raise SystemExit(
            "load: some answers were errors or refusals; the timings are not of the work meant"
        )


if __name__ == "__main__":
    main()
