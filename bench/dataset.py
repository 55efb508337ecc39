"""A CRM with years of invoices, bulk-loaded into MariaDB for the scale benchmarks.

    .venv/bin/python bench/dataset.py [--customers 100000] [--invoices 1000000] [--url ...]

Invoices spread over five years in every state, 1-200 lines each (about 10 on average),
payments and refunds, this month's charges unbilled, company names that make search real.
Rows are written as tab-separated files and loaded with LOAD DATA LOCAL INFILE. Prints how
long each step took and a staff token for bench/api.py.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pymysql
import sqlalchemy
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from domain.ops.migrations import upgrade  # noqa: E402
from domain.store import title_totals  # noqa: E402
from domain.store.search_words import rebuild  # noqa: E402

DEFAULT_URL = "mysql+asyncmy://root@127.0.0.1:3306/invoicing_bench?charset=utf8mb4"
BENCH_TOKEN = "inv_bench_staff_token_not_for_production_use_0000000000"

WORDS = (
    "Acme Apex Atlas Aurora Blue Bright Cedar Coastal Crown Delta Eagle Echo Ever Falcon First Fjord Global "
    "Golden Granite Green Harbor Highland Horizon Iron Island Jade Keystone Lake Liberty Lumen Maple Meridian "
    "Metro Nova Oak Ocean Orbit Pacific Peak Pine Pioneer Polar Prime Quantum River Rock Royal Sierra Silver "
    "Solar Spring Star Stone Summit Sun Terra Tide Titan Trinity Union Valley Vector Vista West Willow Zen"
).split()
KINDS = "Logistics Dental Foods Motors Consulting Farms Labs Media Systems Telecom Hotels Builders Clinic Studio Traders".split()
SUFFIXES = ("Pty Ltd", "LLC", "Inc.", "S.A.", "GmbH", "Ltd", "S.L.", "Co-op")
CITIES = [
    ("Sydney", "NSW", "Australia"),
    ("Melbourne", "VIC", "Australia"),
    ("Madrid", "MD", "España"),
    ("Buenos Aires", "CABA", "Argentina"),
    ("Austin", "TX", "United States"),
    ("Oslo", "", "Norway"),
]
PRODUCTS = [
    (1, "Mobile plan 20 GB", 1000, 2990),
    (2, "Internet 100 Mbps", 2100, 5900),
    (3, "Data overage 1 GB", 1000, 450),
    (4, "Installation service", 0, 12000),
    (5, "Router rental", 2100, 750),
    (6, "Support hour", 0, 6500),
]
METHODS = ["CASH", "POS", "BANK_TRANSFER", "STRIPE", "STRIPE", "STRIPE"]


MONTHS = (
    "January February March April May June July August September October November December".split()
)
SERVICES = [
    "Mobile services",
    "Internet services",
    "Additional charges",
    "Support and maintenance",
    "Device rental",
]


def invoice_title(rng: random.Random, start: datetime, end: datetime) -> str:
    """Titles as a billing team writes them: the default, or a service and a month."""
    if rng.random() < 0.4:
        return f"Invoice for {start:%Y-%m-%d} - {end:%Y-%m-%d}"
    return f"{rng.choice(SERVICES)} - {MONTHS[end.month - 1]} {end.year}"


def lines_for(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.9:
        return rng.randint(1, 12)
    if roll < 0.99:
        return rng.randint(13, 60)
    return rng.randint(61, 200)


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def mills(cents: int) -> int:
    """Amounts are computed here in cents and stored in thousandths (model/columns.py)."""
    return cents * 10


def generate(folder: Path, customers: int, invoices: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(tzinfo=None)
    start = now - timedelta(days=5 * 365)
    counts = dict.fromkeys(
        ("customers", "contacts", "invoices", "invoice_lines", "transactions", "payments"), 0
    )
    totals: dict[tuple[int, str, int, str, int], list[int]] = {}
    owed: dict[tuple[int, str, str], list[int]] = {}  # receivable_totals: customer, currency, day
    currencies: dict[int, str] = {}
    # number_series: the numbers were ids, so each series starts after its highest one.
    highest: dict[str, int] = {}
    files = {
        name: (folder / f"{name}.tsv").open("w", encoding="utf-8")
        for name in (
            "customers",
            "contacts",
            "invoices",
            "invoice_lines",
            "transactions",
            "payments",
        )
    }
    for customer_id in range(1, customers + 1):
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(KINDS)} {rng.choice(SUFFIXES)}"
        city, state, country = rng.choice(CITIES)
        language = "es" if country in ("España", "Argentina") else "en"
        # Spain's customers are billed in euros, everyone else in the business's dollars.
        currency = currencies[customer_id] = "EUR" if country == "España" else "USD"
        files["customers"].write(
            f"{customer_id}\t{name}\t{language}\t{rng.randint(1, 999)} Main Street\t\t{city}\t{state}\t{rng.randint(1000, 9999)}\t{country}\t{ts(start)}\t1\t{currency}\n"
        )
        files["contacts"].write(
            f"{customer_id}\t{customer_id}\tAccounts Payable\tap{customer_id}@example.com\tBILLING\t{ts(start)}\n"
        )
    counts["customers"] = counts["contacts"] = customers
    transaction_id = 0
    span = (now - start).total_seconds()
    for invoice_id in range(1, invoices + 1):
        customer_id = rng.randint(1, customers)
        currency = currencies[customer_id]
        created = start + timedelta(seconds=span * invoice_id / invoices)
        period_end = created - timedelta(days=1)
        period_start = period_end - timedelta(days=30)
        roll = rng.random()
        status, void = (
            ("PAID", 0)
            if roll < 0.7
            else ("UNPAID", 0)
            if roll < 0.88
            else ("UNPAID", 1)
            if roll < 0.95
            else ("REFUNDED", 0)
        )
        method = rng.choice(METHODS) if status != "UNPAID" else ""
        if status == "REFUNDED":
            method = "STRIPE"
        subtotal = tax = 0
        n_lines = lines_for(rng)
        for position in range(1, n_lines + 1):
            transaction_id += 1
            product_id, title, percent, price = rng.choice(PRODUCTS)
            cost = price + rng.randint(-price // 10, price // 10)
            line_tax = (cost * percent + 5000) // 10000
            subtotal += cost
            tax += line_tax
            when = period_start + timedelta(seconds=rng.uniform(0, 30 * 86400))
            billed = "\\N" if void else str(invoice_id)
            files["transactions"].write(
                f"{transaction_id}\tCHARGE\t{customer_id}\t{product_id}\t{title}\t\t{ts(when)}\t{mills(cost)}\t{percent}\t{mills(line_tax)}\t{billed}\n"
            )
            files["invoice_lines"].write(
                f"{invoice_id}\t{position}\t{transaction_id}\t{ts(when)}\t{title}\t\t{mills(cost)}\t{percent}\t{mills(line_tax)}\n"
            )
        total = subtotal + tax
        paid_at = ts(created + timedelta(days=rng.randint(1, 20))) if status != "UNPAID" else "\\N"
        reference = (
            f"pi_{invoice_id:010d}"
            if method == "STRIPE"
            else (f"{method} {invoice_id}" if method else "\\N")
        )
        refund = f"re_{invoice_id:010d}" if status == "REFUNDED" else "\\N"
        title = ("Void: " if void else "") + invoice_title(rng, period_start, period_end)
        month = created.year * 100 + created.month
        for key in (f"invoice:{created.year}", "invoice:0"):
            highest[key] = invoice_id
        due = f"{(created + timedelta(days=15)):%Y-%m-%d}"
        paid = total if status != "UNPAID" else 0
        # As the hourly dunning round leaves them: each open invoice past due announced.
        fell_due = status == "UNPAID" and not void and total > 0 and due < f"{now:%Y-%m-%d}"
        files["invoices"].write(
            f"{invoice_id}\tINV-{created.year}-{invoice_id:06d}\t{customer_id}\t{title}\t{period_start:%Y-%m-%d}\t{period_end:%Y-%m-%d}\t"
            f"{due}\t{ts(created)}\t{mills(subtotal)}\t{mills(tax)}\t{mills(total)}\t{status}\t{void}\t"
            f"{ts(created) if void else chr(92) + 'N'}\t{paid_at}\t{method or chr(92) + 'N'}\t{reference}\t{refund}\t{n_lines}\t{month}\t"
            f"{mills(paid)}\t{due}\t{mills(total) if status == 'REFUNDED' else 0}\t{currency}\t"
            f"{due if fell_due else chr(92) + 'N'}\n"
        )
        if status != "UNPAID":
            counts["payments"] += 1
            files["payments"].write(
                f"{invoice_id}\t{mills(total)}\t{method}\t{reference}\t{paid_at}\t"
                f"{mills(total) if status == 'REFUNDED' else 0}\t{refund}\n"
            )
        if status != "UNPAID":
            transaction_id += 1
            files["transactions"].write(
                f"{transaction_id}\tPAYMENT\t{customer_id}\t\\N\tPayment for INV-{created.year}-{invoice_id:06d}\t{method}\t{paid_at}\t{mills(-total)}\t0\t0\t{invoice_id}\n"
            )
        if status == "REFUNDED":
            transaction_id += 1
            files["transactions"].write(
                f"{transaction_id}\tREFUND\t{customer_id}\t\\N\tRefund of INV-{created.year}-{invoice_id:06d}\t{refund}\t{paid_at}\t{mills(total)}\t0\t0\t{invoice_id}\n"
            )
        for scope in (customer_id, 0):
            bucket = totals.setdefault((scope, currency, month, status, void), [0, 0, 0])
            bucket[0] += 1
            bucket[1] += total
            bucket[2] += paid
            if status == "UNPAID" and not void and total > 0:
                still = owed.setdefault((scope, currency, due), [0, 0])
                still[0] += 1
                still[1] += total
        counts["invoice_lines"] += n_lines
    for customer_id in range(1, customers + 1, 10):  # this month's charges, not billed yet
        transaction_id += 1
        files["transactions"].write(
            f"{transaction_id}\tCHARGE\t{customer_id}\t1\tMobile plan 20 GB\t\t{ts(now - timedelta(days=1))}\t29900\t1000\t2990\t\\N\n"
        )
    counts["transactions"] = transaction_id
    counts["invoices"] = invoices
    with (folder / "invoice_totals.tsv").open("w") as out:
        for (scope, currency, month, status, void), (count, total, paid) in totals.items():
            out.write(
                f"{scope}\t{currency}\t{month}\t{status}\t{void}\t{count}\t{mills(total)}\t{mills(paid)}\n"
            )
    counts["invoice_totals"] = len(totals)
    with (folder / "receivable_totals.tsv").open("w") as out:
        for (scope, currency, due), (count, total) in owed.items():
            out.write(f"{scope}\t{currency}\t{due}\t{count}\t{mills(total)}\n")
    counts["receivable_totals"] = len(owed)
    with (folder / "number_series.tsv").open("w") as out:
        for key, last in highest.items():
            out.write(f"{key}\t{last}\n")
    counts["number_series"] = len(highest)
    for handle in files.values():
        handle.close()
    return counts


COLUMNS = {
    "customers": "id, name, language, address_line_1, address_line_2, city, state, zip_code, country, created_at, reminders_enabled, currency",
    "contacts": "id, customer_id, name, email, type, created_at",
    "invoices": (
        "id, number, customer_id, title, start_date, end_date, due_date, created_at, subtotal, tax, total, status, void, "
        "voided_at, paid_at, payment_method, payment_reference, refund_reference, line_count, created_month, "
        "amount_paid, next_due_date, refunded_amount, currency, overdue_announced_for"
    ),
    "payments": "invoice_id, amount, method, reference, paid_at, refunded_amount, refund_reference",
    "transactions": "id, kind, customer_id, product_id, title, description, created_at, retail_cost, tax_percentage, tax_amount, invoice_id",
    "invoice_lines": "invoice_id, position, transaction_id, created_at, title, description, retail_cost, tax_percentage, tax_amount",
    "invoice_totals": "customer_id, currency, month, status, void, invoice_count, total, paid",
    "receivable_totals": "customer_id, currency, falls_due, invoice_count, due",
    "number_series": "series, last",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    url = make_url(args.url)
    admin = pymysql.connect(
        host=url.host,
        port=url.port or 3306,
        user=url.username,
        password=url.password or "",
        local_infile=True,
    )
    timings = []
    with admin.cursor() as cursor:
        # The default 128 MB buffer pool is far too small for a million invoices.
        cursor.execute("SET GLOBAL innodb_buffer_pool_size = 2147483648")
        cursor.execute(f"DROP DATABASE IF EXISTS {url.database}")
        cursor.execute(
            f"CREATE DATABASE {url.database} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    started = time.perf_counter()
    upgrade(args.url)
    timings.append(("migrate", time.perf_counter() - started, 0))
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        started = time.perf_counter()
        counts = generate(folder, args.customers, args.invoices, args.seed)
        timings.append(
            ("generate rows (Python)", time.perf_counter() - started, sum(counts.values()))
        )
        admin.select_db(url.database)
        with admin.cursor() as cursor:
            cursor.execute("SET SESSION foreign_key_checks = 0, unique_checks = 0")
            cursor.executemany(
                "INSERT INTO products (id, name, tax_percentage) VALUES (%s, %s, %s)",
                [(pid, name, percent) for pid, name, percent, _ in PRODUCTS],
            )
            for table in (
                "customers",
                "contacts",
                "invoices",
                "transactions",
                "invoice_lines",
                "invoice_totals",
                "payments",
                "receivable_totals",
                "number_series",
            ):
                started = time.perf_counter()
                cursor.execute(
                    f"LOAD DATA LOCAL INFILE '{folder / (table + '.tsv')}' INTO TABLE {table} "
                    f"CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' ({COLUMNS[table]})"
                )
                admin.commit()
                timings.append((f"load {table}", time.perf_counter() - started, counts[table]))
            started = time.perf_counter()
            cursor.execute(
                "INSERT INTO receivable_balances (customer_id, currency, invoice_count, due)"
                " SELECT customer_id, currency, SUM(invoice_count), SUM(due)"
                " FROM receivable_totals GROUP BY customer_id, currency"
            )
            admin.commit()
            timings.append(("receivable balances", time.perf_counter() - started, cursor.rowcount))
            cursor.execute(
                "INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES ('bench', 'STAFF', %s, NOW(6))",
                (hashlib.sha256(BENCH_TOKEN.encode()).hexdigest(),),
            )
            admin.commit()
            started = time.perf_counter()
            words = sqlalchemy.create_engine(url.set(drivername="mysql+pymysql"))
            with words.begin() as connection:
                counted = rebuild(connection)
            timings.append(("search words", time.perf_counter() - started, sum(counted)))
            started = time.perf_counter()
            with words.begin() as connection:
                titles = title_totals.rebuild(connection)
            words.dispose()
            timings.append(("title totals", time.perf_counter() - started, titles))
            cursor.execute(
                "ANALYZE TABLE customers, invoices, transactions, invoice_lines, invoice_totals,"
                " customer_name_words, invoice_title_words, invoice_title_totals"
            )
            cursor.fetchall()
            admin.commit()
    admin.close()
    print(f"\nDataset in {url.database}: {args.customers} customers, {args.invoices} invoices")
    print(f"  {'step':28s} {'rows':>12s} {'seconds':>9s}")
    for step, seconds, rows in timings:
        print(f"  {step:28s} {rows:12,d} {seconds:9.1f}")
    print(f"  {'total':28s} {'':12s} {sum(s for _, s, _ in timings):9.1f}")
    print(f"\nstaff token for bench/api.py: {BENCH_TOKEN}")


if __name__ == "__main__":
    main()
