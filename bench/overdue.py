"""The overdue filter after a billing run (run bench/dataset.py first).

    .venv/bin/python bench/overdue.py [--url ...] [--issued 0,10000,25000,50000] [--rounds 100]

A billing run that issues a month's invoices at once leaves one invoice per customer open
and not yet due, all of them newer than every overdue one. For each count in `--issued`,
the newest paid invoices of the dataset are issued again (unpaid, due in 30 days, as a
billing run leaves them), the overdue filter's first page is timed through the domain call
(p50 of `--rounds`), and they are paid back as they were. Target: 30 ms (the overdue issue).
Each page is checked: 25 invoices, every one overdue by the rule.

The invoices changed are listed in the table `bench_reissued` until they are put back; a
run that was stopped on the way puts them back first.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench._stats import load_average  # noqa: E402
from bench.api import p50  # noqa: E402
from bench.dataset import DEFAULT_URL  # noqa: E402
from domain.bootstrap import open_database  # noqa: E402
from domain.config import settings_from_mapping  # noqa: E402
from domain.model.access import SYSTEM  # noqa: E402
from domain.model.dunning import is_overdue  # noqa: E402
from domain.model.entities import Invoice  # noqa: E402
from domain.model.paging import PageRequest  # noqa: E402
from domain.queries import invoices  # noqa: E402
from domain.store.database import Database  # noqa: E402
from domain.store.dunning import collectable  # noqa: E402

# What bench/dataset.py wrote for a paid invoice, put back: paid in full, due on its due
# date, never announced overdue.
PUT_BACK = """UPDATE invoices JOIN bench_reissued USING (id)
SET status = 'PAID', amount_paid = total, next_due_date = due_date, overdue_announced_for = NULL"""


async def _put_back(db: Database) -> None:
    """Put back what a run changed (a run stopped on the way included)."""
    async with db.engine.begin() as connection:
        listed = await connection.execute(
            text(
                "SELECT COUNT(*) FROM information_schema.tables "
                "WHERE table_schema = DATABASE() AND table_name = 'bench_reissued'"
            )
        )
        if listed.scalar_one():
            await connection.execute(text(PUT_BACK))
            await connection.execute(text("DROP TABLE bench_reissued"))


async def _reissue(db: Database, count: int, due: object) -> int:
    """Issue the newest `count` paid invoices again, unpaid and due on `due`; how many
    open invoices are then not yet due."""
    async with db.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE bench_reissued (id INT PRIMARY KEY)"))
        await connection.execute(
            text(
                "INSERT INTO bench_reissued SELECT id FROM invoices WHERE status = 'PAID' "
                "AND void = false ORDER BY created_at DESC LIMIT :count"
            ),
            {"count": count},
        )
        await connection.execute(
            text(
                "UPDATE invoices JOIN bench_reissued USING (id) "
                "SET status = 'UNPAID', amount_paid = 0, next_due_date = :due"
            ),
            {"due": due},
        )
        waiting = await connection.execute(
            select(func.count())
            .select_from(Invoice)
            .where(*collectable(), Invoice.next_due_date >= datetime.now(UTC).date())
        )
        return int(waiting.scalar_one())


async def main(url: str, issued: list[int], rounds: int) -> None:
    settings = settings_from_mapping({"database": {"url": url}})
    db = open_database(settings)
    today = datetime.now(UTC).date()
    criteria = invoices.InvoiceFilter(overdue=True, today=today)
    rows = []
    try:
        await _put_back(db)
        for count in issued:
            waiting = await _reissue(db, count, today + timedelta(days=30))
            try:

                async def page() -> None:
                    listed = await invoices.list_invoices(
                        db, SYSTEM, criteria, invoices.InvoiceSort(), PageRequest(1, 25)
                    )
                    if len(listed.items) != 25 or not all(
                        is_overdue(row, today) for row in listed.items
                    ):
                        raise SystemExit(f"a wrong page of overdue invoices: {listed.items}")

                rows.append((count, waiting, await p50(page, rounds)))
            finally:
                await _put_back(db)
    finally:
        await db.dispose()
    print(
        f"\nThe overdue filter's first page (domain call), p50 over {rounds}, milliseconds; "
        f"load average at the end {load_average()}"
    )
    print(f"  {'issued':>8} {'not yet due':>12} {'page':>8} {'target':>7}  verdict")
    for count, waiting, took in rows:
        verdict = "ok" if took <= 30 else "SLOW"
        print(f"  {count:>8} {waiting:>12} {took:>8.1f} {30:>7}  {verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--issued", default="0,10000,25000,50000")
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.url, [int(n) for n in args.issued.split(",")], args.rounds))
