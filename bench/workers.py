"""Billing runs through the Redis work queue with one and with two `invoicing worker`
processes, on MariaDB and the local Redis (127.0.0.1 only).

    .venv/bin/python bench/workers.py [--customers 1000] [--lines 20]

Each customer has --lines charges (issue 19 measures 20); a job bills the customer and
renders the invoice's PDF.
Prints the wall time of `invoicing billing run` (from queueing to the last result), how
the renders were shared, and the speed-up of two workers over one; then one worker with
two renderer processes (invoice.render_workers: 2, workers.max_jobs: 4), the other way to
use two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
import time
from pathlib import Path

import pymysql
import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.test_redis_workers import (  # noqa: E402
    REDIS_URL,
    billing_run,
    customers_with_charges,
    environment,
    renders,
    start_worker,
    stop,
)

MYSQL = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


async def one_run(
    workers: int, customers: int, lines: int, renderers: int = 1
) -> tuple[float, list[int]]:
    name = f"invoicing_queue_bench_{secrets.token_hex(3)}"
    admin = pymysql.connect(**MYSQL)
    admin.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    url = f"mysql+asyncmy://root@127.0.0.1:3306/{name}?charset=utf8mb4"
    queue = f"invoicing-bench-{secrets.token_hex(3)}"
    folder = Path(tempfile.mkdtemp())
    processes = []
    try:
        db = await customers_with_charges(url, customers, lines)
        await db.dispose()
        env = environment(
            folder, url, queue, job_timeout=120, renderers=renderers, max_jobs=2 * renderers
        )
        logs = [folder / f"worker{n}.log" for n in range(workers)]
        processes = [start_worker(env, log) for log in logs]
        time.sleep(2)  # let the workers connect, as they would be in production
        started = time.perf_counter()
        run = billing_run(env)
        output, _ = run.communicate(timeout=3600)
        seconds = time.perf_counter() - started
        if run.returncode != 0 or f"{customers} invoices" not in output:
            raise SystemExit(f"billing run failed: {output}")
        return seconds, [sum(renders(log).values()) for log in logs]
    finally:
        for process in processes:
            stop(process)
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"*{queue}*"):
            client.delete(key)


async def main(customers: int, lines: int) -> None:
    results = [(f"{workers} x 1", *await one_run(workers, customers, lines)) for workers in (1, 2)]
    results.append(("1 x 2", *await one_run(1, customers, lines, renderers=2)))
    single = results[0][1]
    print(
        f"\nBilling run of {customers} customers, {lines} lines each (bill + render each PDF) "
        "through Redis"
    )
    print(
        f"  {'workers x renderers':>19s} {'seconds':>8s} {'invoices/s':>10s} {'speed-up':>8s}"
        "  renders per worker"
    )
    for shape, seconds, shares in results:
        print(
            f"  {shape:>19s} {seconds:8.1f} {customers / seconds:10.1f} {single / seconds:7.2f}x"
            f"  {shares}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=20, help="charges per customer")
    args = parser.parse_args()
    asyncio.run(main(args.customers, args.lines))
