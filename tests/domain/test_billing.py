from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from domain.bootstrap import Runtime
from domain.config import Settings
from domain.errors import DomainError, ErrorCode
from domain.model.access import SYSTEM
from domain.model.commands import BillingOrder, GenerateRequest
from domain.model.enums import InvoiceStatus
from domain.model.invoice_rules import Action, actions_for, period_text
from domain.queries.billing_preview import preview_invoice
from domain.queries.invoices import get_invoice
from domain.services import billing
from domain.store.database import Database
from domain.store.pdf_cache import lines_of
from tests.fakes.clock import PinnableClock
from tests.helpers import make_charge, make_customer, snapshot


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


JAN1, JAN31 = date(2025, 1, 1), date(2025, 1, 31)


async def generate(db: Database, settings: Settings, customer_id: int, **fields) -> object:
    fields.setdefault("start_date", JAN1)
    fields.setdefault("end_date", JAN31)
    return await billing.generate_invoice(
        db, settings, SYSTEM, GenerateRequest(customer_id=customer_id, **fields)
    )


async def refused(work) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await work
    return caught.value


async def test_preview_shows_exactly_what_generate_bills(db: Database, settings: Settings) -> None:
    customer = await make_customer(db)
    a = await make_charge(db, customer.id, "10.00", tax="10", created_at=at(date(2025, 1, 2)))
    b = await make_charge(db, customer.id, "20.00", tax="21", created_at=at(date(2025, 1, 3)))
    c = await make_charge(db, customer.id, "5.55", tax="0", created_at=at(date(2025, 1, 31), 23))
    await make_charge(
        db, customer.id, "99.00", created_at=at(date(2025, 2, 1))
    )  # outside the period
    before = await snapshot(db)
    preview = await preview_invoice(
        db, settings, SYSTEM, customer.id, JAN1, JAN31, excluded_ids=[b.id]
    )
    assert await snapshot(db) == before
    assert [(line.transaction.id, line.included) for line in preview.lines] == [
        (a.id, True),
        (b.id, False),
        (c.id, True),
    ]
    assert (preview.subtotal, preview.tax, preview.total) == (
        Decimal("15.55"),
        Decimal("1.00"),
        Decimal("16.55"),
    )

    invoice = await generate(db, settings, customer.id, excluded_transaction_ids=[b.id])
    lines = await lines_of(db, invoice.id)
    assert [line.transaction_id for line in lines] == [a.id, c.id]
    assert (invoice.subtotal, invoice.tax, invoice.total, invoice.line_count) == (
        preview.subtotal,
        preview.tax,
        preview.total,
        2,
    )
    left = await preview_invoice(db, settings, SYSTEM, customer.id, JAN1, JAN31)
    assert [line.transaction.id for line in left.lines] == [b.id]  # excluded stays unbilled


async def test_totals_are_sums_of_lines_rounded_each(db: Database, settings: Settings) -> None:
    customer = await make_customer(db)
    for _ in range(3):
        await make_charge(db, customer.id, "0.10", tax="21", created_at=at(date(2025, 1, 10)))
    invoice = await generate(db, settings, customer.id)
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        Decimal("0.30"),
        Decimal("0.06"),
        Decimal("0.36"),
    )


async def test_defaults_bill_the_last_14_days_due_today_with_a_title_in_the_customers_language(
    db: Database, settings: Settings, clock: PinnableClock
) -> None:
    # A minute before midnight: "today" is the clock's, not the machine's.
    now = datetime(2025, 3, 1, 23, 59, tzinfo=UTC)
    clock.pin(now)
    customer = await make_customer(db, "Hotel Miramar", language="es")
    recent = await make_charge(db, customer.id, "10", created_at=now - timedelta(days=3))
    await make_charge(db, customer.id, "10", created_at=now - timedelta(days=20))
    invoice = await billing.generate_invoice(
        db, settings, SYSTEM, GenerateRequest(customer_id=customer.id)
    )
    today = now.date()
    start = today - timedelta(days=14)
    assert (invoice.start_date, invoice.end_date, invoice.due_date) == (start, today, today)
    assert invoice.title == f"Factura por {start} - {today}"
    assert [line.transaction_id for line in await lines_of(db, invoice.id)] == [recent.id]
    english = await make_customer(db, "Acme")
    await make_charge(db, english.id, "1", created_at=now)
    other = await billing.generate_invoice(
        db, settings, SYSTEM, GenerateRequest(customer_id=english.id)
    )
    assert other.title == f"Invoice for {start} - {today}"


async def test_the_number_follows_the_configured_format(
    db: Database, settings: Settings, clock: PinnableClock
) -> None:
    clock.pin(datetime(2026, 2, 3, 10, tzinfo=UTC))
    customer = await make_customer(db)
    await make_charge(db, customer.id, created_at=at(date(2025, 1, 5)))
    invoice = await generate(db, settings, customer.id, title="Servicios de enero de 2025")
    assert invoice.number == "INV-2026-000001"  # the first of 2026's series
    assert invoice.title == "Servicios de enero de 2025"
    assert period_text(invoice.start_date, invoice.end_date) == "2025-01-01 - 2025-01-31"


async def test_exact_transaction_ids_must_each_be_billable(
    db: Database, settings: Settings
) -> None:
    customer = await make_customer(db)
    other = await make_customer(db, "Other")
    mine = await make_charge(db, customer.id, created_at=at(date(2025, 1, 5)))
    extra = await make_charge(db, customer.id, created_at=at(date(2025, 1, 6)))
    theirs = await make_charge(db, other.id, created_at=at(date(2025, 1, 5)))
    late = await make_charge(db, customer.id, created_at=at(date(2025, 2, 5)))
    before = await snapshot(db)
    for bad, reason in (
        (theirs.id, "not a transaction of this customer"),
        (late.id, "outside the period"),
        (424242, "not a transaction"),
    ):
        error = await refused(generate(db, settings, customer.id, transaction_ids=[mine.id, bad]))
        assert error.code is ErrorCode.TRANSACTION_UNAVAILABLE and error.field == "transaction_ids"
        assert str(bad) in error.message and reason in error.message
    assert await snapshot(db) == before

    invoice = await generate(db, settings, customer.id, transaction_ids=[mine.id])
    assert invoice.line_count == 1
    again = await refused(generate(db, settings, customer.id, transaction_ids=[mine.id, extra.id]))
    assert (
        again.code is ErrorCode.TRANSACTION_UNAVAILABLE
        and f"already billed on invoice {invoice.id}" in again.message
    )


async def test_lines_copy_their_charges_in_the_order_they_were_made_however_picked(
    db: Database, settings: Settings
) -> None:
    customer = await make_customer(db)
    made = [
        await make_charge(db, customer.id, cost, tax=tax, created_at=at(date(2025, 1, day), hour))
        for cost, tax, day, hour in (
            ("10.00", "10", 2, 12),
            ("20.00", "21", 3, 9),
            ("5.55", "0", 2, 15),
        )
    ]
    first, second, third = made[0], made[2], made[1]  # by when they were made
    invoice = await generate(
        db, settings, customer.id, transaction_ids=[third.id, first.id, second.id]
    )
    lines = await lines_of(db, invoice.id)
    assert [
        (line.position, line.transaction_id, line.created_at, line.retail_cost, line.tax_amount)
        for line in lines
    ] == [
        (place, charge.id, charge.created_at, charge.retail_cost, charge.tax_amount)
        for place, charge in enumerate((first, second, third), start=1)
    ]


async def test_refusals_bill_nothing(db: Database, settings: Settings) -> None:
    customer = await make_customer(db)
    await make_charge(db, customer.id, created_at=at(date(2025, 1, 5)))
    before = await snapshot(db)
    nothing = await refused(
        generate(db, settings, customer.id, start_date=date(2025, 3, 1), end_date=date(2025, 3, 31))
    )
    backwards = await refused(generate(db, settings, customer.id, start_date=JAN31, end_date=JAN1))
    early_due = await refused(generate(db, settings, customer.id, due_date=date(2024, 12, 31)))
    missing = await refused(generate(db, settings, customer.id + 999))
    assert nothing.code is ErrorCode.NO_TRANSACTIONS
    assert (backwards.code, backwards.field) == (ErrorCode.INVALID_INPUT, "start_date")
    assert (early_due.code, early_due.field) == (ErrorCode.INVALID_INPUT, "due_date")
    assert missing.code is ErrorCode.NOT_FOUND
    assert await snapshot(db) == before


async def test_an_idempotency_key_returns_the_first_invoice_and_bills_nothing_twice(
    db: Database, settings: Settings
) -> None:
    customer = await make_customer(db)
    await make_charge(db, customer.id, created_at=at(date(2025, 1, 5)))
    first = await generate(db, settings, customer.id, idempotency_key="jan-2025")
    await make_charge(
        db, customer.id, created_at=at(date(2025, 1, 6))
    )  # arrives after the first request
    again = await generate(db, settings, customer.id, idempotency_key="jan-2025")
    assert again.id == first.id and again.line_count == 1
    conflict = await refused(
        generate(db, settings, customer.id, idempotency_key="jan-2025", title="Other")
    )
    assert conflict.code is ErrorCode.CONFLICT


async def test_issued_invoices_keep_their_lines_through_the_workflow_7_correction(
    db: Database, settings: Settings
) -> None:
    from domain.model.commands import TransactionChanges
    from domain.services.transactions import update_transaction
    from domain.services.voiding import void_invoice

    customer = await make_customer(db, "Distribuciones Levante", language="es")
    wrong = await make_charge(
        db,
        customer.id,
        "100.00",
        tax="21",
        title="Cargo por exceso",
        created_at=at(date(2025, 1, 5)),
    )
    right = await make_charge(db, customer.id, "50.00", tax="21", created_at=at(date(2025, 1, 6)))
    original = await generate(db, settings, customer.id)
    voided = await void_invoice(db, SYSTEM, original.id)
    assert voided.void and voided.title.startswith("Anulada: Factura por")
    corrected = await update_transaction(
        db, SYSTEM, wrong.id, TransactionChanges(retail_cost=Decimal("10.00"))
    )
    assert corrected.tax_amount == Decimal("2.10")
    reissued = await generate(db, settings, customer.id)
    assert reissued.total == Decimal("72.60")  # (10 + 50) x 1.21
    kept = await lines_of(db, original.id)
    assert [(line.transaction_id, line.retail_cost) for line in kept] == [
        (wrong.id, Decimal("100.00")),
        (right.id, Decimal("50.00")),
    ]
    assert (await get_invoice(db, SYSTEM, original.id)).total == Decimal("181.50")


async def test_billing_run_makes_one_invoice_per_customer_and_survives_failures(
    db: Database, settings: Settings, runtime: Runtime
) -> None:
    order = BillingOrder(JAN1, JAN31, date(2025, 2, 15), SYSTEM)
    busy = await make_customer(db, "Busy")
    quiet = await make_customer(db, "Quiet")
    also = await make_customer(db, "Also busy")
    for customer in (busy, also):
        await make_charge(db, customer.id, created_at=at(date(2025, 1, 5)))
        await make_charge(db, customer.id, created_at=at(date(2025, 1, 7)))
    everyone = await billing.run_billing(db, settings, order, runtime.work)
    assert sorted(i.customer_id for i in everyone.invoices) == [busy.id, also.id]
    assert all(i.line_count == 2 and i.due_date == date(2025, 2, 15) for i in everyone.invoices)

    await make_charge(db, busy.id, created_at=at(date(2025, 1, 20)))
    chosen = await billing.run_billing(
        db, settings, order, runtime.work, [busy.id, quiet.id, 999999]
    )
    assert [i.customer_id for i in chosen.invoices] == [busy.id]
    assert chosen.skipped_customer_ids == [quiet.id]
    assert [(cid, error.code) for cid, error in chosen.failures] == [(999999, ErrorCode.NOT_FOUND)]
    again = await billing.run_billing(db, settings, order, runtime.work)
    assert again.invoices == [] and again.failures == []


async def test_voiding_and_paying_follow_the_invoice_state(
    db: Database, settings: Settings
) -> None:
    from domain.model.access import Viewer
    from domain.model.commands import PaymentRequest
    from domain.model.entities import Transaction
    from domain.model.enums import PaymentMethodKind, Role, TransactionKind
    from domain.services.payments.manual import pay_by_hand
    from domain.services.voiding import void_invoice
    from domain.store.batches import rows_by_id

    customer = await make_customer(db)
    await make_charge(db, customer.id, "40.00", tax="10", created_at=at(date(2025, 1, 5)))
    invoice = await generate(db, settings, customer.id)
    portal = Viewer(role=Role.CUSTOMER, name="portal", customer_id=customer.id)
    assert (await refused(void_invoice(db, portal, invoice.id))).code is ErrorCode.FORBIDDEN
    cash = PaymentRequest(invoice.id, PaymentMethodKind.CASH, "Efectivo pagado 2025-01-15")
    assert (await refused(pay_by_hand(db, portal, cash))).code is ErrorCode.FORBIDDEN
    # A customer may pay by card; without a saved card that is NO_PAYMENT_METHOD.
    from domain.adapters.metrics import PrometheusMetrics
    from domain.adapters.stripe_gateway import StripeGateway
    from domain.config import StripeSettings
    from domain.services.payments import pay

    stripe = PaymentRequest(invoice.id, PaymentMethodKind.STRIPE)
    gateway = StripeGateway(StripeSettings())
    no_card = await refused(pay(db, settings, portal, stripe, gateway, PrometheusMetrics()))
    assert no_card.code is ErrorCode.NO_PAYMENT_METHOD

    paid = await pay_by_hand(db, SYSTEM, cash)
    assert (paid.status, paid.payment_method, paid.payment_reference) == (
        InvoiceStatus.PAID,
        PaymentMethodKind.CASH,
        "Efectivo pagado 2025-01-15",
    )
    assert paid.paid_at is not None
    assert actions_for(paid, SYSTEM) == [Action.DOWNLOAD_PDF, Action.SEND_EMAIL]
    before = await snapshot(db)
    assert (await refused(pay_by_hand(db, SYSTEM, cash))).code is ErrorCode.ALREADY_PAID
    assert (await refused(void_invoice(db, SYSTEM, invoice.id))).code is ErrorCode.ALREADY_PAID
    assert await snapshot(db) == before
    payments = [row for row in before["transactions"] if row[1] == TransactionKind.PAYMENT]
    assert len(payments) == 1
    payment = (await rows_by_id(db, Transaction, [payments[0][0]]))[payments[0][0]]
    assert (payment.retail_cost, payment.invoice_id) == (Decimal("-44.00"), invoice.id)

    await make_charge(db, customer.id, created_at=at(date(2025, 1, 9)))
    second = await generate(db, settings, customer.id)
    await void_invoice(db, SYSTEM, second.id)
    assert (await refused(void_invoice(db, SYSTEM, second.id))).code is ErrorCode.ALREADY_VOID
    assert (
        await refused(pay_by_hand(db, SYSTEM, PaymentRequest(second.id, PaymentMethodKind.POS)))
    ).code is ErrorCode.ALREADY_VOID
