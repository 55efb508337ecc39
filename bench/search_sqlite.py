"""Search on SQLite (the embedded default): accent- and case-folded matching against the
plain lower() it replaced, on the same database, in one run.

    .venv/bin/python bench/search_sqlite.py [--invoices 200000]

SQLite's LIKE folds ASCII case only, so the search compares `fold(column)` (a Python
function every connection registers, store/text_search.py). The anchor is the query it
replaced, `lower(column) LIKE lower(term)`, which missed "Café" for "cafe". Both scan the
titles; the table shows what folding costs per search, and the whole invoices-list call.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.api import p50  # noqa: E402
from bench.dataset import KINDS, SUFFIXES, WORDS, invoice_title  # noqa: E402
from domain.bootstrap import open_database  # noqa: E402
from domain.config import settings_from_mapping  # noqa: E402
from domain.model.access import SYSTEM  # noqa: E402
from domain.model.folding import fold  # noqa: E402
from domain.model.paging import PageRequest  # noqa: E402
from domain.ops.migrations import upgrade_async  # noqa: E402
from domain.queries import invoices  # noqa: E402
from domain.store.database import Database  # noqa: E402


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


async def load(db: Database, count: int) -> None:
    rng = random.Random(7)
    customers = max(1, count // 10)
    start = datetime(2021, 1, 1, tzinfo=UTC)
    async with db.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO customers (id, name, language, created_at) VALUES (:id, :name, 'en', '2021-01-01 00:00:00.000000')"
            ),
            [
                {
                    "id": i,
                    "name": f"{rng.choice(WORDS)} {rng.choice(KINDS)} {rng.choice(SUFFIXES)}"
                    + (" Café" if i % 50 == 0 else ""),
                }
                for i in range(1, customers + 1)
            ],
        )
        rows = []
        for i in range(1, count + 1):
            created = start + timedelta(minutes=7 * i)
            end = created.date()
            rows.append(
                {
                    "id": i,
                    "number": f"INV-{created.year}-{i:06d}",
                    "customer": rng.randint(1, customers),
                    "title": invoice_title(rng, created - timedelta(days=30), created),
                    "day": end.isoformat(),
                    "created": _ts(created),
                    "month": created.year * 100 + created.month,
                }
            )
        await session.execute(
            text(
                "INSERT INTO invoices (id, number, customer_id, title, start_date, end_date, "
                "due_date, created_at, subtotal, tax, total, status, void, line_count, "
                "refunded_amount, created_month) VALUES (:id, :number, :customer, :title, "
                ":day, :day, :day, :created, 1000, 100, 1100, 'UNPAID', 0, 1, 0, :month)"
            ),
            rows,
        )


async def main(count: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/search.db"
        await upgrade_async(url)
        db = open_database(settings_from_mapping({"database": {"url": url}}))
        await load(db, count)
        print(f"\nSearch on SQLite, {count:,} invoices, p50 over {rounds} runs, milliseconds")
        print(
            f"  {'term':24s} {'lower() (before)':>17s} {'fold() (now)':>13s} {'ratio':>6s}"
            f" {'hits before':>12s} {'hits now':>9s} {'list call':>10s}"
        )
        for term in ("Mobile services", "march 2024", "MÓBILE", "cafe", "zzz-nothing"):

            async def count_with(expression: str, pattern: str) -> int:
                async with db.read() as session:
                    return int(
                        await session.scalar(
                            text(f"SELECT count(*) FROM invoices WHERE {expression} LIKE :p"),
                            {"p": pattern},
                        )
                    )

            before = lambda t=term: count_with("lower(title)", f"%{t.lower()}%")  # noqa: E731
            now = lambda t=term: count_with("fold(title)", f"%{fold(t)}%")  # noqa: E731
            listed = lambda t=term: invoices.list_invoices(  # noqa: E731
                db, SYSTEM, invoices.InvoiceFilter(search=t), invoices.InvoiceSort(), PageRequest()
            )
            old_ms, new_ms, list_ms = (
                await p50(before, rounds),
                await p50(now, rounds),
                await p50(listed, rounds),
            )
            print(
                f"  {term:24s} {old_ms:17.1f} {new_ms:13.1f} {new_ms / old_ms:5.1f}x"
                f" {await before():12d} {await now():9d} {list_ms:10.1f}"
            )
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.invoices, arguments.rounds))
