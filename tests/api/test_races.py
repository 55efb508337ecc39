"""Racing requests never bill a transaction twice or take a payment twice.

The requests run concurrently through the real app, each on its own database connection,
so they really meet in the database (row locks on MariaDB, BEGIN IMMEDIATE on SQLite).
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from domain.model.entities import Invoice, InvoiceLine, Transaction
from domain.model.enums import TransactionKind
from tests.consistency import assert_consistent
from tests.helpers import Api, make_charge, make_customer

PARALLEL = 8


@pytest.fixture(autouse=True)
async def checked_after(api: Api) -> AsyncIterator[None]:
    """Every race ends with `invoicing db check`'s invariants holding."""
    yield
    await assert_consistent(api.db)


GENERATE = """
mutation($input: GenerateInvoiceInput!) {
  generateInvoice(input: $input) { invoice { id lineCount } errors { code } }
}"""

PAY = """
mutation($input: PayInvoiceInput!) { payInvoice(input: $input) { invoice { status } errors { code } } }"""


def jan(day: int) -> datetime:
    return datetime(2025, 1, day, 12, tzinfo=UTC)


PERIOD = {"startDate": "2025-01-01", "endDate": "2025-01-31", "dueDate": "2025-02-15"}


async def _together(api: Api, query: str, inputs: list[dict]) -> list[dict]:
    token = await api.staff_token()
    answers = await asyncio.gather(
        *(api.gql(query, {"input": given}, token=token) for given in inputs)
    )
    return [next(iter(answer.values())) for answer in answers]


async def _billed_once(api: Api) -> Counter:
    """How many live invoice lines each transaction has, checked against its link."""
    async with api.db.read() as session:
        lines = (
            await session.execute(
                select(InvoiceLine.transaction_id, InvoiceLine.invoice_id)
                .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                .where(Invoice.void.is_(False))
            )
        ).all()
        links = dict((await session.execute(select(Transaction.id, Transaction.invoice_id))).all())
    for transaction_id, invoice_id in lines:
        assert links[transaction_id] == invoice_id
    return Counter(transaction_id for transaction_id, _ in lines)


async def test_parallel_generates_for_one_customer_bill_each_charge_once(api: Api) -> None:
    customer = await make_customer(api.db)
    charges = [await make_charge(api.db, customer.id, created_at=jan(day)) for day in range(1, 11)]
    results = await _together(
        api, GENERATE, [{"customerId": str(customer.id), **PERIOD}] * PARALLEL
    )
    winners = [r for r in results if r["invoice"]]
    assert len(winners) == 1 and winners[0]["invoice"]["lineCount"] == len(charges)
    assert sorted(r["errors"][0]["code"] for r in results if not r["invoice"]) == [
        "NO_TRANSACTIONS"
    ] * (PARALLEL - 1)
    assert await _billed_once(api) == Counter({charge.id: 1 for charge in charges})


async def test_parallel_generates_over_overlapping_transaction_sets(api: Api) -> None:
    customer = await make_customer(api.db)
    charges = [await make_charge(api.db, customer.id, created_at=jan(day)) for day in range(1, 9)]
    ids = [str(charge.id) for charge in charges]
    # Each request wants a window of three charges overlapping its neighbours'.
    inputs = [
        {"customerId": str(customer.id), **PERIOD, "transactionIds": ids[i : i + 3]}
        for i in range(6)
    ]
    results = await _together(api, GENERATE, inputs)
    for result in results:
        assert bool(result["invoice"]) != bool(result["errors"])
        if result["errors"]:
            assert result["errors"][0]["code"] == "TRANSACTION_UNAVAILABLE"
    assert any(result["invoice"] for result in results)
    billed = await _billed_once(api)
    assert set(billed.values()) == {1}
    assert sum(r["invoice"]["lineCount"] for r in results if r["invoice"]) == len(billed)


async def test_parallel_requests_with_one_idempotency_key_make_one_invoice(api: Api) -> None:
    customer = await make_customer(api.db)
    await make_charge(api.db, customer.id, created_at=jan(3))
    given = {"customerId": str(customer.id), **PERIOD, "idempotencyKey": "run-2025-01"}
    results = await _together(api, GENERATE, [given] * PARALLEL)
    assert all(result["errors"] == [] for result in results)
    assert len({result["invoice"]["id"] for result in results}) == 1
    async with api.db.read() as session:
        assert (await session.execute(select(func.count()).select_from(Invoice))).scalar_one() == 1


async def test_parallel_payments_of_one_invoice_take_one_payment(api: Api) -> None:
    customer = await make_customer(api.db)
    await make_charge(api.db, customer.id, "75.00", created_at=jan(3))
    invoice = (await _together(api, GENERATE, [{"customerId": str(customer.id), **PERIOD}]))[0][
        "invoice"
    ]
    methods = ["CASH", "POS", "BANK_TRANSFER", "REFUND"] * (PARALLEL // 4)
    results = await _together(
        api, PAY, [{"invoiceId": invoice["id"], "method": m} for m in methods]
    )
    assert sum(1 for r in results if r["errors"] == []) == 1
    assert sorted(r["errors"][0]["code"] for r in results if r["errors"]) == ["ALREADY_PAID"] * (
        PARALLEL - 1
    )
    async with api.db.read() as session:
        payments = await session.execute(
            select(func.count())
            .select_from(Transaction)
            .where(Transaction.kind == TransactionKind.PAYMENT)
        )
        assert payments.scalar_one() == 1


async def test_a_void_racing_a_payment_leaves_one_outcome(api: Api) -> None:
    customer = await make_customer(api.db)
    await make_charge(api.db, customer.id, created_at=jan(3))
    invoice = (await _together(api, GENERATE, [{"customerId": str(customer.id), **PERIOD}]))[0][
        "invoice"
    ]
    token = await api.staff_token()
    void, pay = await asyncio.gather(
        api.gql(
            "mutation($id: ID!) { voidInvoice(id: $id) { errors { code } } }",
            {"id": invoice["id"]},
            token=token,
        ),
        api.gql(PAY, {"input": {"invoiceId": invoice["id"], "method": "CASH"}}, token=token),
    )
    outcomes = sorted(
        [
            tuple(e["code"] for e in void["voidInvoice"]["errors"]),
            tuple(e["code"] for e in pay["payInvoice"]["errors"]),
        ]
    )
    assert outcomes in ([(), ("ALREADY_PAID",)], [(), ("ALREADY_VOID",)])
    final = await api.gql(
        "query($id: ID!) { invoice(id: $id) { void status } }", {"id": invoice["id"]}
    )
    assert final["invoice"] in (
        {"void": True, "status": "UNPAID"},
        {"void": False, "status": "PAID"},
    )


UPDATE = """
mutation($id: ID!, $cost: Decimal!) {
  updateTransaction(id: $id, input: {retailCost: $cost}) { transaction { retailCost } errors { code } }
}"""


async def test_an_update_racing_generate_is_billed_at_its_new_amount_or_refused(api: Api) -> None:
    """1 generate against 24 updates of its charges, four rounds: every billed charge ends
    equal to its frozen line, and every update either landed before the invoice (and was
    billed at its new amount) or was refused as billed."""
    token = await api.staff_token()
    for round_ in range(4):
        customer = await make_customer(api.db, f"Racer {round_}")
        charges = [
            await make_charge(api.db, customer.id, "10.00", created_at=jan(day))
            for day in range(1, 7)
        ]
        generate = api.gql(
            GENERATE, {"input": {"customerId": str(customer.id), **PERIOD}}, token=token
        )
        updates = [
            api.gql(UPDATE, {"id": str(charges[i % len(charges)].id), "cost": "99.00"}, token=token)
            for i in range(24)
        ]
        answers = await asyncio.gather(generate, *updates)
        invoice = answers[0]["generateInvoice"]["invoice"]
        assert invoice is not None
        for answer in answers[1:]:
            update = answer["updateTransaction"]
            assert update["errors"] in ([], [{"code": "TRANSACTION_BILLED"}]), update
        async with api.db.read() as session:
            lines = dict(
                (
                    await session.execute(
                        select(InvoiceLine.transaction_id, InvoiceLine.retail_cost).where(
                            InvoiceLine.invoice_id == int(invoice["id"])
                        )
                    )
                ).all()
            )
            now = dict(
                (
                    await session.execute(
                        select(Transaction.id, Transaction.retail_cost).where(
                            Transaction.id.in_(lines)
                        )
                    )
                ).all()
            )
        assert lines == now
    await assert_consistent(api.db)
