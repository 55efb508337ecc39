"""Two builds of the API side by side, in one run: an earlier checkout on its own database
and this one on its database, each serving the same requests, alternated request by request
(so a busy moment of the machine lands on both), p50 and p90 over many rounds. For changes
that need a migration, load the same dataset twice: bench/dataset.py of the earlier checkout
into one database, and this checkout's migrations over a copy in the other.

    git worktree add /tmp/before <commit>
    (cd /tmp/before && PYTHONPATH=/tmp/before ../main/.venv/bin/python bench/dataset.py \\
        --url mysql+aiomysql://root@127.0.0.1:3306/invoicing_bench_before?charset=utf8mb4)
    .venv/bin/python bench/side_by_side.py --before /tmp/before \\
        --before-url mysql+aiomysql://root@127.0.0.1:3306/invoicing_bench_before?charset=utf8mb4

Builds from before issue 31 read MariaDB through aiomysql (`pip install aiomysql` into the
venv to run one) and accept only mysql+aiomysql:// URLs; later builds read that spelling as
mysql+asyncmy://.

Every answer is checked (status 200, no `errors`) before it is counted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench._server import invoicing  # noqa: E402
from bench.dataset import BENCH_TOKEN, DEFAULT_URL  # noqa: E402

LIST = (
    "query { invoices(perPage: 25) { totalCount items { id number title total status dueDate } } }"
)
STATS = "query($c: ID) { invoiceStats(customerId: $c) { total { display } unpaid { count } thisMonth { trend } lastMonth { changePercent } } }"
AGING = "query($c: ID) { receivablesAging(customerId: $c) { current days1To30 over90 } }"
REQUESTS = {
    "list: default page": (LIST, {}),
    "list: overdue": (
        "query { invoices(perPage: 25, filter: {overdue: true}) { totalCount items { id } } }",
        {},
    ),
    "search: customer name": (
        'query { invoices(perPage: 25, filter: {search: "harbour"}) { totalCount items { id } } }',
        {},
    ),
    "stats: system-wide": (STATS, {"c": None}),
    "stats: one customer": (STATS, {"c": "4242"}),
    "stats: the overdue card": ("{ invoiceStats { overdue { count amount } } }", {}),
    "aging: system-wide": (AGING, {"c": None}),
    "aging: one customer": (AGING, {"c": "4242"}),
}


async def _ask(client: httpx.AsyncClient, base: str, query: str, variables: dict) -> float:
    started = time.perf_counter()
    response = await client.post(f"{base}/graphql", json={"query": query, "variables": variables})
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200 or response.json().get("errors"):
        raise SystemExit(f"{base}: {response.status_code} {response.text[:300]}")
    return elapsed


async def main(before: Path, before_url: str, url: str, rounds: int) -> None:
    config = Path(tempfile.mkdtemp()) / "bench.yaml"
    config.write_text(f"invoice:\n  template_dir: {REPO / 'invoice_templates'}\n")
    old_env = {"DATABASE_URL": before_url, "CRM_CONFIG": str(config), "PYTHONPATH": str(before)}
    new_env = {"DATABASE_URL": url, "CRM_CONFIG": str(config)}
    with invoicing("serve", env=old_env) as old, invoicing("serve", env=new_env) as new:
        headers = {"Authorization": f"Bearer {BENCH_TOKEN}"}
        async with httpx.AsyncClient(headers=headers, timeout=60) as client:
            print(f"\n{before} vs this checkout, {rounds} rounds each, requests alternated, ms")
            print(
                f"  {'operation':26} {'before':>8} {'now':>8} {'p90 before':>11} {'p90 now':>8}  change"
            )
            for label, (query, variables) in REQUESTS.items():
                timings: dict[str, list[float]] = {old: [], new: []}
                for base in (old, new):  # warm both
                    for _ in range(10):
                        await _ask(client, base, query, variables)
                for round_ in range(rounds):
                    for base in (old, new) if round_ % 2 == 0 else (new, old):
                        timings[base].append(await _ask(client, base, query, variables))
                was, now = (statistics.median(timings[b]) for b in (old, new))
                tail = [statistics.quantiles(timings[b], n=10)[-1] for b in (old, new)]
                print(
                    f"  {label:26} {was:8.2f} {now:8.2f} {tail[0]:11.2f} {tail[1]:8.2f}"
                    f"  {100 * (now - was) / was:+5.0f}%"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the earlier checkout")
    parser.add_argument("--before-url", required=True, help="its database")
    parser.add_argument("--url", default=DEFAULT_URL, help="this checkout's database")
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.before, args.before_url, args.url, args.rounds))
