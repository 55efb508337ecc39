"""The API at scale (run bench/dataset.py first), against a real `invoicing serve`.

    .venv/bin/python bench/api.py [--url ...] [--rounds 100]

Each row: p50 over HTTP; the same result from the domain call in-process (SQL through the
same driver, plus mapping); and for list pages, the same page served over HTTP by
Strawberry on Starlette/uvicorn from memory, in a server process of its own (the
framework's floor, bench/_floor.py). Targets: list pages
<= 30 ms and within 1.5x of memory; search <= 100 ms p50 and <= 200 ms p95; stats <= 50 ms;
the overdue filter, card and aging <= 30 ms; generating 1000 transactions <= 200 ms.
A list page's requests and the floor's are taken in turn (p50_side_by_side): measured one
block after the other, the floor alone moved from 7 to 16 ms within a run on this machine.
100 of each by default: over 30, six runs of the same code put 16 to 19 of the 21 list
pages within 1.5x of the floor, a row's ratio moving by up to 0.2x between them.

Every answer timed is checked (HTTP 200, no `errors`, the page it should be: the same
invoices as the domain call, the floor's 25 rows); one that is not stops the bench, since
the time of an error answer is not the time of the work.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench._data import customer_with_charges  # noqa: E402
from bench._floor import memory_context  # noqa: E402
from bench._server import invoicing, server_process  # noqa: E402
from bench._stats import load_average, percentile  # noqa: E402
from bench.dataset import BENCH_TOKEN, DEFAULT_URL  # noqa: E402
from domain.bootstrap import open_database  # noqa: E402
from domain.config import settings_from_mapping  # noqa: E402
from domain.model.access import SYSTEM  # noqa: E402
from domain.model.paging import PageRequest  # noqa: E402
from domain.queries import invoice_stats, invoices, receivables  # noqa: E402
from graph.invoices.types import InvoiceType  # noqa: E402

FIELDS = "id number title period startDate endDate dueDate createdAt subtotal tax total status void paidAt paymentMethod paymentReference lineCount"
LIST = (
    "query($f: InvoiceFilter, $s: InvoiceSort, $p: Int!) "
    f"{{ invoices(filter: $f, sort: $s, page: $p, perPage: 25) {{ totalCount items {{ {FIELDS} }} }} }}"
)
MEMORY_PAGE = f"{{ invoices {{ totalCount items {{ {FIELDS} }} }} }}"
# The next page after a cursor (endCursor of the page before), as an export walks.
AFTER = (
    "query($a: String) "
    f"{{ invoices(after: $a, perPage: 25) {{ totalCount endCursor items {{ {FIELDS} }} }} }}"
)


def ids_of(rows: list, settings) -> list[str]:
    """The GraphQL ids of invoices the domain call read."""
    return [str(InvoiceType.from_row(row, memory_context(settings)).id) for row in rows]


class WrongAnswer(SystemExit):
    """A timed request did not answer what it should: its time would be a lie."""


def data_of(response: httpx.Response, what: str) -> dict:
    """The `data` of a GraphQL answer that is HTTP 200 without errors, or stop the bench."""
    if response.status_code != 200:
        raise WrongAnswer(f"{what}: HTTP {response.status_code}: {response.text[:500]}")
    body = response.json()
    if body.get("errors") or not isinstance(body.get("data"), dict):
        raise WrongAnswer(f"{what}: {str(body)[:500]}")
    return body["data"]


def same_page(data: dict, ids: list[str], total: int | None, what: str) -> None:
    """The page the domain call read: the same invoices in the same order, the same count."""
    page = data["invoices"]
    got = [item["id"] for item in page["items"]]
    if got != ids or (total is not None and page["totalCount"] != total):
        raise WrongAnswer(f"{what}: {got[:3]}... ({page['totalCount']}) instead of {ids[:3]}...")


async def answered(request: Awaitable[dict], field: str) -> dict:
    """The answer, which must carry `field`."""
    data = await request
    if data.get(field) is None:
        raise WrongAnswer(f"no {field} in {data}")
    return data


async def timed(work: Callable[[], Awaitable[object]], rounds: int) -> list[float]:
    await work()
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        await work()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


async def p50(work: Callable[[], Awaitable[object]], rounds: int) -> float:
    return statistics.median(await timed(work, rounds))


async def p50_side_by_side(
    work: Callable[[], Awaitable[object]], anchor: Callable[[], Awaitable[object]], rounds: int
) -> tuple[float, float]:
    """p50 of `work` and of `anchor`, their requests taken in turn: a busy moment of the
    machine lands on both, so their ratio holds where each alone moves by half."""
    await work()
    await anchor()
    timings: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for side, request in zip(timings, (work, anchor), strict=True):
            started = time.perf_counter()
            await request()
            side.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings[0]), statistics.median(timings[1])


async def main(url: str, rounds: int) -> None:
    config = Path(tempfile.mkdtemp()) / "bench.yaml"
    # generateInvoice is measured without its PDF (rendered in the background otherwise).
    config.write_text(
        f"invoice:\n  template_dir: {REPO / 'invoice_templates'}\n  pdf_cache:\n    prerender_on_generate: false\n"
    )
    server = contextlib.ExitStack()
    base = server.enter_context(
        invoicing("serve", env={"DATABASE_URL": url, "CRM_CONFIG": str(config)})
    )
    settings = settings_from_mapping({"database": {"url": url}})
    db = open_database(settings)
    load_before = load_average()
    rows_out: list[tuple[str, float, float | None, float | None, float]] = []
    search_p95: list[tuple[str, float]] = []
    try:
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {BENCH_TOKEN}"}, timeout=120
        ) as client:

            async def gql(query: str, variables: dict) -> dict:
                response = await client.post(
                    "/graphql", json={"query": query, "variables": variables}
                )
                return data_of(response, f"{query[:60]}... {variables}")

            floor_base = server.enter_context(
                server_process([sys.executable, str(REPO / "bench" / "_floor.py"), "--url", url])
            )[0]
            memory_url = floor_base + "/graphql"
            today = datetime.now(UTC).date()  # the server's business.timezone is UTC here
            floor = httpx.AsyncClient(timeout=30)
            cases: list[tuple[str, dict, invoices.InvoiceFilter, invoices.InvoiceSort, int]] = [
                (
                    "list: default (created desc)",
                    {},
                    invoices.InvoiceFilter(),
                    invoices.InvoiceSort(),
                    1,
                )
            ]
            for field in invoices.SortField:
                for direction in ("ASC", "DESC"):
                    cases.append(
                        (
                            f"list: sort {field.value} {direction}",
                            {"s": {"field": field.value, "direction": direction}},
                            invoices.InvoiceFilter(),
                            invoices.InvoiceSort(field, direction == "DESC"),
                            1,
                        )
                    )
            for label, given, criteria in (
                (
                    "void VOID",
                    {"void": "VOID"},
                    invoices.InvoiceFilter(void=invoices.VoidFilter.VOID),
                ),
                (
                    "void NOT_VOID",
                    {"void": "NOT_VOID"},
                    invoices.InvoiceFilter(void=invoices.VoidFilter.NOT_VOID),
                ),
                (
                    "payment PAID",
                    {"payment": "PAID"},
                    invoices.InvoiceFilter(payment=invoices.PaymentFilter.PAID),
                ),
                (
                    "payment UNPAID",
                    {"payment": "UNPAID"},
                    invoices.InvoiceFilter(payment=invoices.PaymentFilter.UNPAID),
                ),
                (
                    "a customer's invoices",
                    {"customerId": "4242"},
                    invoices.InvoiceFilter(customer_id=4242),
                ),
                (
                    "overdue",
                    {"overdue": True},
                    invoices.InvoiceFilter(overdue=True, today=today),
                ),
                (
                    "not overdue",
                    {"overdue": False},
                    invoices.InvoiceFilter(overdue=False, today=today),
                ),
            ):
                cases.append(
                    (f"list: filter {label}", {"f": given}, criteria, invoices.InvoiceSort(), 1)
                )
            cases.append(
                (
                    "list: deep page 2000",
                    {"p": 2000},
                    invoices.InvoiceFilter(),
                    invoices.InvoiceSort(),
                    2000,
                )
            )
            for label, variables, criteria, sort, page in cases:
                variables = {"p": page, **variables}

                async def domain(c=criteria, s=sort, pg=page):
                    return await invoices.list_invoices(
                        db, SYSTEM, c, s, PageRequest(pg, 25), settings.business.zone
                    )

                expected = await domain()
                ids = ids_of(expected.items, settings)

                async def over_http(v=variables, ids=ids, total=expected.total_count, label=label):
                    same_page(await gql(LIST, v), ids, total, label)

                served = await floor.post(floor_base + "/load", json={"ids": ids})
                if served.status_code != 204:
                    raise WrongAnswer(f"the floor did not load {label}: {served.text[:300]}")

                async def from_memory(ids=ids, label=label):
                    answer = data_of(
                        await floor.post(memory_url, json={"query": MEMORY_PAGE}),
                        label + " (memory)",
                    )
                    same_page(answer, ids, None, label + " (memory)")

                http, memory = await p50_side_by_side(over_http, from_memory, rounds)
                sql = await p50(domain, rounds)
                rows_out.append((label, http, sql, memory, 30))
            # Page 2000 again, reached by cursor: the page before it ends where it starts.
            before = await invoices.list_invoices(
                db, SYSTEM, invoices.InvoiceFilter(), invoices.InvoiceSort(), PageRequest(1999, 25)
            )
            cursor = before.end_cursor

            async def by_cursor():
                return await invoices.list_invoices(
                    db,
                    SYSTEM,
                    invoices.InvoiceFilter(),
                    invoices.InvoiceSort(),
                    PageRequest(1, 25, cursor),
                )

            after_page = await by_cursor()
            after_ids = ids_of(after_page.items, settings)

            async def cursor_over_http():
                same_page(
                    await gql(AFTER, {"a": cursor}), after_ids, after_page.total_count, "cursor"
                )

            http = await p50(cursor_over_http, rounds)
            sql = await p50(by_cursor, rounds)
            rows_out.append(("list: page 2000 by cursor (after)", http, sql, None, 30))
            # A customer with a "March 2024" invoice, for the search inside one customer's.
            march = await invoices.list_invoices(
                db,
                SYSTEM,
                invoices.InvoiceFilter(search="Mobile services - March 2024"),
                invoices.InvoiceSort(),
                PageRequest(1, 1),
            )
            if not march.items:
                raise WrongAnswer("no customer has a 'Mobile services - March 2024' invoice")
            scoped = str(march.items[0].customer_id)
            for label, term, customer in (
                ("search: customer name", "Falcon Dental", None),
                ("search: title, broad", "Mobile services", None),
                ("search: title, accents and case", "MOBILÉ sèrvices", None),
                ("search: title, narrow and old", "March 2024", None),
                ("search: number", "INV-2025-7000", None),
                ("search: one customer's invoices", "march 2024", scoped),
            ):
                found = {"search": term, **({"customerId": customer} if customer else {})}
                criteria = invoices.InvoiceFilter(
                    search=term, customer_id=int(customer) if customer else None
                )

                async def searched(c=criteria):
                    return await invoices.list_invoices(
                        db, SYSTEM, c, invoices.InvoiceSort(), PageRequest(1, 25)
                    )

                hits = await searched()
                if not hits.items:
                    raise WrongAnswer(f"{label}: {term!r} finds nothing in the dataset")
                hit_ids = ids_of(hits.items, settings)

                async def search_over_http(
                    f=found, ids=hit_ids, total=hits.total_count, label=label
                ):
                    same_page(await gql(LIST, {"p": 1, "f": f}), ids, total, label)

                timings = await timed(search_over_http, rounds)
                sql = await p50(searched, rounds)
                rows_out.append((label, statistics.median(timings), sql, None, 100))
                search_p95.append((label, percentile(timings, 0.95)))
            stats_query = "query($c: ID) { invoiceStats(customerId: $c) { total { display } unpaid { count } thisMonth { trend } lastMonth { changePercent } } }"
            for label, customer in (("stats: system-wide", None), ("stats: one customer", "4242")):
                http = await p50(
                    lambda c=customer: answered(gql(stats_query, {"c": c}), "invoiceStats"),
                    rounds,
                )
                sql = await p50(
                    lambda c=customer: invoice_stats.invoice_stats(
                        db, settings, SYSTEM, int(c) if c else None
                    ),
                    rounds,
                )
                rows_out.append((label, http, sql, None, 50))
            overdue_card = "{ invoiceStats { overdue { count amount } } }"
            http = await p50(lambda: answered(gql(overdue_card, {}), "invoiceStats"), rounds)
            rows_out.append(("stats: the overdue card", http, None, None, 30))
            aging_query = (
                "query($c: ID) { receivablesAging(customerId: $c) { current days1To30 over90 } }"
            )
            for label, customer in (("aging: system-wide", None), ("aging: one customer", "4242")):
                http = await p50(
                    lambda c=customer: answered(gql(aging_query, {"c": c}), "receivablesAging"),
                    rounds,
                )
                sql = await p50(
                    lambda c=customer: receivables.receivables_aging(
                        db, settings, SYSTEM, int(c) if c else None
                    ),
                    rounds,
                )
                rows_out.append((label, http, sql, None, 30))
            generate_ms = []
            for attempt in range(7):
                customer_id = await customer_with_charges(db, 1000, f"Bench generate {attempt}")
                started = time.perf_counter()
                data = await gql(
                    "mutation($c: ID!) { generateInvoice(input: {customerId: $c}) { invoice { lineCount } errors { code } } }",
                    {"c": str(customer_id)},
                )
                generate_ms.append((time.perf_counter() - started) * 1000)
                generated = data["generateInvoice"]
                if generated["errors"] or generated["invoice"]["lineCount"] != 1000:
                    raise WrongAnswer(f"generate: {generated}")
            rows_out.append(
                ("generate: 1000 transactions", statistics.median(generate_ms), None, None, 200)
            )
    finally:
        server.close()
        await db.dispose()
    load = load_average()
    print(
        f"\nAPI at scale ({url.rsplit('/', 1)[-1]}), p50 over {rounds} requests, milliseconds;"
        f" load average at the end {load} (at the start {load_before})"
    )
    print(f"  {'operation':32s} {'HTTP':>8s} {'domain':>8s} {'memory':>8s} {'target':>7s}  verdict")
    for label, http, sql, memory, target in rows_out:
        cells = [f"{x:8.1f}" if x is not None else f"{'-':>8s}" for x in (http, sql, memory)]
        verdict = "ok" if http <= target else "SLOW"
        if memory is not None:
            verdict += f", {http / memory:.1f}x memory" + (
                "" if http <= 1.5 * memory else " (> 1.5x)"
            )
            # What the server adds above the domain call (SQL and mapping), against the floor.
            verdict += f"; above SQL {(http - (sql or 0)) / memory:.1f}x"
        print(f"  {label:32s} {' '.join(cells)} {target:7.0f}  {verdict}")
    ratios = [http / memory for _, http, _, memory, _ in rows_out if memory is not None]
    within = sum(ratio <= 1.5 for ratio in ratios)
    print(
        f"\n  list pages / floor: geometric mean {statistics.geometric_mean(ratios):.2f}x,"
        f" median {statistics.median(ratios):.2f}x; {within} of {len(ratios)} within 1.5x"
    )
    print(f"\n  {'search, p95 over HTTP':32s} {'p95':>8s} {'target':>7s}")
    for label, slowest in search_p95:
        print(f"  {label:32s} {slowest:8.1f} {200:7.0f}  {'ok' if slowest <= 200 else 'SLOW'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--rounds", type=int, default=100)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.url, arguments.rounds))
