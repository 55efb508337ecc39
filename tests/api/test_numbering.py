"""Invoice numbers without gaps: invoices and credit notes each in their own series, per
year, taken in the transaction that issues the invoice (SQLite and MariaDB)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import httpx
from sqlalchemy import update

from domain.bootstrap import Runtime
from domain.config import settings_from_mapping
from domain.model.entities import Invoice
from domain.ops.check import check_database
from graph.app import build_app
from tests.conftest import TEMPLATES
from tests.consistency import assert_consistent
from tests.fakes.clock import PinnableClock
from tests.helpers import Api, make_charge, make_customer

GENERATE = """mutation($c: ID!) { generateInvoice(input: {customerId: $c,
  startDate: "2026-01-01", endDate: "2026-12-31"}) { invoice { id number } errors { code } } }"""
VOID = "mutation($id: ID!) { voidInvoice(id: $id) { errors { code } } }"


async def _bill(api: Api, cost: str, name: str = "Acme") -> dict:
    customer = await make_customer(api.db, name)
    await make_charge(api.db, customer.id, cost, created_at=datetime(2026, 3, 5, tzinfo=UTC))
    made = (await api.gql(GENERATE, {"c": str(customer.id)}))["generateInvoice"]
    assert made["errors"] == [], made
    return made["invoice"]


async def test_invoices_and_credit_notes_each_count_from_1_without_gaps(
    api: Api, clock: PinnableClock
) -> None:
    clock.pin(datetime(2026, 6, 1, 9, tzinfo=UTC))
    numbers = []
    for cost in ("10.00", "20.00", "-5.00", "30.00", "40.00", "-6.00", "50.00", "60.00"):
        numbers.append((await _bill(api, cost))["number"])
        # A refused generate (nothing to bill) takes no number.
        nobody = await make_customer(api.db, "Nothing to bill")
        refused = (await api.gql(GENERATE, {"c": str(nobody.id)}))["generateInvoice"]
        assert refused["errors"][0]["code"] == "NO_TRANSACTIONS"
    assert numbers == [
        "INV-2026-000001",
        "INV-2026-000002",
        "CN-2026-000001",
        "INV-2026-000003",
        "INV-2026-000004",
        "CN-2026-000002",
        "INV-2026-000005",
        "INV-2026-000006",
    ]
    # Voiding keeps the number: the next invoice takes the one after it.
    second = await _bill(api, "70.00")
    assert (await api.gql(VOID, {"id": second["id"]}))["voidInvoice"]["errors"] == []
    assert (await _bill(api, "80.00"))["number"] == "INV-2026-000008"
    await assert_consistent(api.db)


async def test_generates_at_once_never_share_or_skip_a_number(
    api: Api, clock: PinnableClock
) -> None:
    clock.pin(datetime(2026, 6, 1, 9, tzinfo=UTC))
    customers = []
    for index in range(8):
        customer = await make_customer(api.db, f"Customer {index}")
        await make_charge(api.db, customer.id, "10.00", created_at=datetime(2026, 3, 5, tzinfo=UTC))
        customers.append(customer.id)
    made = await asyncio.gather(
        *(api.gql(GENERATE, {"c": str(customer)}) for customer in customers)
    )
    numbers = sorted(m["generateInvoice"]["invoice"]["number"] for m in made)
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 9)]
    await assert_consistent(api.db)


async def test_each_year_starts_again_from_1_unless_told_never(
    api: Api, runtime: Runtime, clock: PinnableClock
) -> None:
    clock.pin(datetime(2026, 12, 31, 22, tzinfo=UTC))
    assert (await _bill(api, "10.00"))["number"] == "INV-2026-000001"
    assert (await _bill(api, "11.00"))["number"] == "INV-2026-000002"
    clock.pin(datetime(2027, 1, 1, 1, tzinfo=UTC))
    assert (await _bill(api, "12.00"))["number"] == "INV-2027-000001"
    never = settings_from_mapping(
        {
            "database": {"url": runtime.settings.database.url},
            "business": {"timezone": "UTC"},
            "invoice": {
                "template_dir": str(TEMPLATES),
                "pdf_cache": {"prerender_on_generate": False},
                "number_format": "F-{seq:05d}",
                "numbering_reset": "never",
            },
        }
    )
    configured = dataclasses.replace(runtime, settings=never)
    transport = httpx.ASGITransport(app=build_app(never, runtime=configured))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        plain = Api(client, api.db)
        plain._staff = await api.staff_token()
        assert (await _bill(plain, "13.00"))["number"] == "F-00001"
        clock.pin(datetime(2028, 1, 1, 1, tzinfo=UTC))
        assert (await _bill(plain, "14.00"))["number"] == "F-00002"
    await assert_consistent(api.db)


async def test_numbering_by_id_still_works_and_takes_no_series(
    api: Api, runtime: Runtime, clock: PinnableClock
) -> None:
    clock.pin(datetime(2026, 6, 1, 9, tzinfo=UTC))
    by_id = settings_from_mapping(
        {
            "database": {"url": runtime.settings.database.url},
            "invoice": {
                "template_dir": str(TEMPLATES),
                "pdf_cache": {"prerender_on_generate": False},
                "number_format": "INV-{year}-{id:06d}",
            },
        }
    )
    configured = dataclasses.replace(runtime, settings=by_id)
    transport = httpx.ASGITransport(app=build_app(by_id, runtime=configured))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        plain = Api(client, api.db)
        plain._staff = await api.staff_token()
        made = await _bill(plain, "10.00")
    assert made["number"] == f"INV-2026-{int(made['id']):06d}"
    await assert_consistent(api.db)


async def test_db_check_names_a_series_with_a_gap(api: Api, clock: PinnableClock) -> None:
    clock.pin(datetime(2026, 6, 1, 9, tzinfo=UTC))
    first = await _bill(api, "10.00")
    await _bill(api, "11.00")
    async with api.db.transaction() as session:
        await session.execute(
            update(Invoice).where(Invoice.id == int(first["id"])).values(number_seq=7)
        )
    findings = [str(f) for f in await check_database(api.db, UTC)]
    assert any(f.startswith("number series with a gap") for f in findings), findings
