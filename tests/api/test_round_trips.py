"""A list page costs the database what it must: the token lookup, the page, its nested
loads batched, on one connection and with no BEGIN, COMMIT or ROLLBACK around them."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import asyncmy
from sqlalchemy import event
from sqlalchemy.engine import make_url

from domain.store.database import Database
from tests.helpers import Api, make_charge, make_customer

PAGE = "{ invoices(perPage: 25) { totalCount items { id number total status customer { name } } } }"
GENERATE = 'mutation($c: ID!) { generateInvoice(input: {customerId: $c, startDate: "2025-01-01", endDate: "2025-01-31"}) { invoice { id } errors { code } } }'


async def _three_invoices(api: Api) -> None:
    for name in ("Round Trip One", "Round Trip Two", "Round Trip Three"):
        customer = await make_customer(api.db, name)
        await make_charge(api.db, customer.id, created_at=datetime(2025, 1, 5, tzinfo=UTC))
        data = await api.gql(GENERATE, {"c": str(customer.id)})
        assert data["generateInvoice"]["errors"] == []


@contextmanager
def checkouts(db: Database) -> Iterator[list[int]]:
    """How many connections the readers' pool hands out meanwhile."""
    taken: list[int] = []

    def count(*_: Any) -> None:
        taken.append(1)

    pool = db.reader_engine.sync_engine.pool
    event.listen(pool, "checkout", count)
    try:
        yield taken
    finally:
        event.remove(pool, "checkout", count)


class ServerCounters:
    """MariaDB's own count of the statements clients sent it (pings are not statements;
    the readers' connections ping only after sitting idle, which a test never lets them)."""

    NAMES = ("Questions", "Com_select", "Com_rollback", "Com_commit", "Com_begin")

    def __init__(self, connection: asyncmy.Connection) -> None:
        self.connection = connection

    async def read(self) -> dict[str, int]:
        async with self.connection.cursor() as cursor:
            await cursor.execute(
                "SHOW GLOBAL STATUS WHERE Variable_name IN ("
                + ", ".join(f"'{name}'" for name in self.NAMES)
                + ")"
            )
            return {name: int(value) for name, value in await cursor.fetchall()}


async def test_a_list_page_with_its_customers_is_three_round_trips_on_one_connection(
    api: Api,
) -> None:
    await _three_invoices(api)
    await api.gql(PAGE)  # the pool holds a connection, the statements are compiled
    db = api.db
    if db.dialect == "mysql":
        url = make_url(str(db.engine.url))
        admin = await asyncmy.connect(host=url.host, port=url.port or 3306, user=url.username)
        try:
            counters = ServerCounters(admin)
            before = await counters.read()
            with checkouts(db) as taken:
                data = await api.gql(PAGE)
            after = await counters.read()
        finally:
            await admin.ensure_closed()
        sent = {name: after[name] - before[name] for name in ServerCounters.NAMES}
        sent["Questions"] -= 1  # the SHOW STATUS that read `before`
        # The token, the page with its count, the customers of the page in one batch.
        assert sent["Com_select"] == 3, sent
        assert sent["Questions"] == 3, sent
        assert sent["Com_rollback"] == sent["Com_commit"] == sent["Com_begin"] == 0, sent
    else:
        statements: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement)

        engine = db.reader_engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            with checkouts(db) as taken:
                data = await api.gql(PAGE)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(statements) == 3, statements
        assert all(s.lstrip().upper().startswith("SELECT") for s in statements), statements
    assert len(taken) == 1
    page = data["invoices"]
    assert page["totalCount"] == 3
    assert sorted(item["customer"]["name"] for item in page["items"]) == [
        "Round Trip One",
        "Round Trip Three",
        "Round Trip Two",
    ]


async def test_a_mutation_answers_with_what_it_wrote_though_the_request_read_before(
    api: Api,
) -> None:
    customer = await make_customer(api.db, "Read Then Write")
    await make_charge(api.db, customer.id, created_at=datetime(2025, 1, 5, tzinfo=UTC))
    # One request: the token is read, the invoice written, then read back for the answer.
    data = await api.gql(
        'mutation($c: ID!) { generateInvoice(input: {customerId: $c, startDate: "2025-01-01", endDate: "2025-01-31"}) { invoice { id status lineCount customer { name } } errors { code } } }',
        {"c": str(customer.id)},
    )
    invoice = data["generateInvoice"]["invoice"]
    assert invoice["status"] == "UNPAID" and invoice["lineCount"] == 1
    paid = await api.gql(
        "mutation($id: ID!) { payInvoice(input: {invoiceId: $id, method: CASH}) { invoice { status } errors { code } } }",
        {"id": invoice["id"]},
    )
    assert paid["payInvoice"]["invoice"]["status"] == "PAID"
    again = await api.gql("query($id: ID!) { invoice(id: $id) { status } }", {"id": invoice["id"]})
    assert again["invoice"]["status"] == "PAID"
