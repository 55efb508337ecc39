"""The stats summary stays equal to a recount through every kind of change."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from domain.adapters.metrics import PrometheusMetrics
from domain.config import Settings
from domain.model.access import SYSTEM
from domain.model.commands import GenerateRequest, PaymentRequest
from domain.model.enums import PaymentMethodKind
from domain.queries.invoices import get_invoice
from domain.services import billing
from domain.services.payments.manual import pay_by_hand
from domain.services.stripe_events import handle_stripe_event
from domain.services.voiding import void_invoice
from domain.store import invoice_totals
from domain.store.database import Database
from tests.consistency import assert_consistent
from tests.helpers import make_charge, make_customer


async def _invoice(db: Database, settings: Settings, customer_id: int, day: date) -> int:
    await make_charge(
        db,
        customer_id,
        "100.00",
        tax="10",
        created_at=datetime(day.year, day.month, day.day, tzinfo=UTC),
    )
    request = GenerateRequest(customer_id=customer_id, start_date=day, end_date=day)
    issued = datetime(day.year, day.month, day.day, 18, tzinfo=UTC)
    return (await billing.generate_invoice(db, settings, SYSTEM, request, issued_at=issued)).id


async def test_the_summary_equals_a_recount_after_every_kind_of_change(
    db: Database, settings: Settings
) -> None:
    acme, globex = await make_customer(db, "Acme"), await make_customer(db, "Globex")
    ids = [
        await _invoice(db, settings, customer.id, date(2025, month, 10))
        for customer in (acme, globex)
        for month in (1, 2, 3)
    ]
    await void_invoice(db, SYSTEM, ids[0])
    await pay_by_hand(db, SYSTEM, PaymentRequest(ids[1], PaymentMethodKind.CASH))
    await pay_by_hand(db, SYSTEM, PaymentRequest(ids[2], PaymentMethodKind.REFUND))
    minor = int((await get_invoice(db, SYSTEM, ids[3])).total * 100)
    paid_at_stripe = {
        "id": "evt_a",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": "pi_a",
                "status": "succeeded",
                "amount_received": minor,
                "currency": "usd",
                "metadata": {"invoice_id": str(ids[3])},
            }
        },
    }
    refunded_at_stripe = {
        "id": "evt_b",
        "type": "charge.refunded",
        "data": {
            "object": {
                "id": "ch_a",
                "payment_intent": "pi_a",
                "currency": "usd",
                "amount_refunded": minor,
                "refunded": True,
                "refunds": {"data": [{"id": "re_a"}]},
            }
        },
    }
    metrics = PrometheusMetrics()
    assert await handle_stripe_event(db, settings, metrics, paid_at_stripe) == "invoice paid"
    assert (
        await handle_stripe_event(db, settings, metrics, refunded_at_stripe) == "invoice refunded"
    )

    zone = settings.business.zone
    stored = await invoice_totals.stored(db)
    assert stored == await invoice_totals.recount(db, zone)
    everyone = {
        key: value for key, value in stored.items() if key[0] == invoice_totals.ALL_CUSTOMERS
    }
    assert sum(count for count, _, _ in everyone.values()) == 6
    assert {key[3].value for key in everyone} == {"UNPAID", "PAID", "REFUNDED"}
    await assert_consistent(db, zone)


async def test_rebuild_recounts_in_another_time_zone(db: Database, settings: Settings) -> None:
    customer = await make_customer(db)
    await _invoice(
        db, settings, customer.id, date(2025, 1, 31)
    )  # 18:00 UTC on the 31st: February in Sydney
    assert {key[2] for key in await invoice_totals.stored(db)} == {202501}
    sydney = ZoneInfo("Australia/Sydney")
    await invoice_totals.rebuild(db, sydney)
    assert {key[2] for key in await invoice_totals.stored(db)} == {202502}
    assert await invoice_totals.stored(db) == await invoice_totals.recount(db, sydney)
