"""The overdue filter's count (what is owed in all, less what is not due yet, from the
summaries) equals the invoices the filter lists, on every day, in every currency, for all
customers or one, as invoices are issued, part paid, paid and voided; SQLite and MariaDB."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from domain.bootstrap import Runtime, open_mail
from domain.config import Settings
from domain.model.access import SYSTEM
from domain.model.commands import CustomerData, GenerateRequest, PaymentRequest
from domain.model.dunning import is_overdue
from domain.model.enums import PaymentMethodKind
from domain.model.paging import PageRequest
from domain.model.payments import PlannedInstallment
from domain.queries import invoices, receivables
from domain.services import billing, customers, voiding
from domain.services.dunning import run_round
from domain.services.payments.manual import pay_by_hand
from domain.services.payments.plans import create_payment_plan
from domain.store.database import Database
from tests.consistency import assert_consistent
from tests.fakes.clock import PinnableClock
from tests.helpers import make_charge, make_customer

ISSUED = datetime(2026, 3, 1, 9, tzinfo=UTC)
DUE_DAYS = [date(2026, 3, 5), date(2026, 3, 10), date(2026, 3, 10), date(2026, 3, 20)]
ASKED_ON = [
    date(2026, 3, 4),
    date(2026, 3, 5),
    date(2026, 3, 10),
    date(2026, 3, 11),
    date(2026, 4, 1),
]


async def _ledger(db: Database, settings: Settings) -> list[int]:
    """Per currency, a customer with an invoice of 100.00 (no tax) due on each of DUE_DAYS."""
    made = []
    for name, currency in (("Euro Co", "EUR"), ("Dollar Inc", "USD")):
        customer = await make_customer(db, name)
        await customers.update_customer(
            db, settings, SYSTEM, customer.id, CustomerData(name=name, currency=currency)
        )
        for index, due in enumerate(DUE_DAYS):
            issued = ISSUED + timedelta(minutes=index)
            await make_charge(db, customer.id, "100.00", tax="0", created_at=issued)
            invoice = await billing.generate_invoice(
                db,
                settings,
                SYSTEM,
                GenerateRequest(
                    customer.id,
                    start_date=issued.date(),
                    end_date=issued.date(),
                    due_date=due,
                ),
                issued_at=issued,
            )
            made.append(invoice.id)
    return made


async def _listed(db: Database, settings: Settings, **criteria: object) -> tuple[int, int]:
    """The overdue filter's count, and how many invoices it lists."""
    page = await invoices.list_invoices(
        db,
        SYSTEM,
        invoices.InvoiceFilter(overdue=True, **criteria),  # type: ignore[arg-type]
        invoices.InvoiceSort(),
        PageRequest(1, 100),
        settings.business.zone,
    )
    return page.total_count, len(page.items)


async def _counts_hold(db: Database, settings: Settings, customer_ids: list[int]) -> list[int]:
    counted = []
    for today in ASKED_ON:
        for currency in (None, "EUR", "USD"):
            for customer_id in (None, *customer_ids):
                count, listed = await _listed(
                    db, settings, today=today, currency=currency, customer_id=customer_id
                )
                assert count == listed, (today, currency, customer_id)
                if customer_id is None and currency is None:
                    counted.append(count)
    return counted


async def test_the_overdue_count_equals_the_invoices_listed_on_every_day(
    db: Database, settings: Settings
) -> None:
    made = await _ledger(db, settings)
    customer_ids = [
        (await invoices.get_invoice(db, SYSTEM, made[index])).customer_id for index in (0, 4)
    ]
    # Due on the 5th: overdue from the 6th; none on the 4th and 5th, all eight in April.
    assert await _counts_hold(db, settings, customer_ids) == [0, 0, 2, 6, 8]
    payment = PaymentRequest(made[1], PaymentMethodKind.CASH, amount=Decimal("40.00"))
    await pay_by_hand(db, SYSTEM, payment)  # part paid: still overdue
    await pay_by_hand(db, SYSTEM, PaymentRequest(made[5], PaymentMethodKind.CASH))
    await voiding.void_invoice(db, SYSTEM, made[7])
    assert await _counts_hold(db, settings, customer_ids) == [0, 0, 2, 5, 6]
    count, amount = await receivables.overdue(db, None, "EUR", date(2026, 4, 1))
    assert (count, amount) == (4, Decimal("360.00"))  # 4 x 100.00 less the 40.00 paid
    await assert_consistent(db)


async def _overdue_pages(
    db: Database, settings: Settings, today: date, after: bool = False
) -> list[int]:
    """The overdue filter's invoices on `today`, newest first, two a page (by page number,
    or by cursor with `after=True`), checked against the count every page carries."""
    listed: list[int] = []
    request = PageRequest(1, 2)
    while True:
        page = await invoices.list_invoices(
            db,
            SYSTEM,
            invoices.InvoiceFilter(overdue=True, today=today),
            invoices.InvoiceSort(),
            request,
            settings.business.zone,
        )
        listed += [row.id for row in page.items]
        assert page.total_count >= len(listed), today
        if not page.has_next_page:
            assert page.total_count == len(listed), today
            return listed
        if after:
            request = PageRequest(1, 2, after=page.end_cursor)
        else:
            request = PageRequest(request.page + 1, 2)


async def _overdue_by_rule(db: Database, today: date) -> list[int]:
    """Every invoice, newest first, that the model's rule says is overdue on `today`."""
    every = await invoices.list_invoices(
        db, SYSTEM, invoices.InvoiceFilter(), invoices.InvoiceSort(), PageRequest(1, 100)
    )
    return [row.id for row in every.items if is_overdue(row, today)]


async def test_the_overdue_filter_lists_what_the_rule_says_before_and_after_a_dunning_round(
    db: Database, settings: Settings, runtime: Runtime, clock: PinnableClock
) -> None:
    # The filter reads the invoices the round announced overdue apart from the rest; what
    # changed since the round (paid, part paid, voided, put on a plan, issued already due)
    # and days asked before or after it must not show through.
    made = await _ledger(db, settings)
    quiet = settings.model_copy(
        update={"dunning": settings.dunning.model_copy(update={"reminder_days": []})}
    )
    mail = open_mail(quiet, runtime.clock)
    report = await run_round(db, quiet, runtime.pdfs, mail, date(2026, 3, 11))
    assert len(report.overdue) == 6  # due on the 5th and the 10th, in both currencies
    clock.pin(datetime(2026, 3, 12, 9, tzinfo=UTC))
    await pay_by_hand(
        db, SYSTEM, PaymentRequest(made[1], PaymentMethodKind.CASH, amount=Decimal("40"))
    )
    await pay_by_hand(db, SYSTEM, PaymentRequest(made[5], PaymentMethodKind.CASH))
    await voiding.void_invoice(db, SYSTEM, made[6])
    halves = [PlannedInstallment(date(2026, 3, day), Decimal("50.00")) for day in (15, 25)]
    await create_payment_plan(db, settings, SYSTEM, made[0], halves)
    customer_id = (await invoices.get_invoice(db, SYSTEM, made[0])).customer_id
    issued = datetime(2026, 3, 12, 10, tzinfo=UTC)
    await make_charge(db, customer_id, "100.00", tax="0", created_at=issued)
    late = await billing.generate_invoice(
        db,
        settings,
        SYSTEM,
        GenerateRequest(
            customer_id,
            start_date=date(2026, 3, 1),
            end_date=issued.date(),
            due_date=date(2026, 3, 8),
        ),
        issued_at=issued,
    )
    for today in [*ASKED_ON[:4], date(2026, 3, 12), date(2026, 3, 16), date(2026, 4, 1)]:
        expected = await _overdue_by_rule(db, today)
        assert await _overdue_pages(db, settings, today) == expected, today
        assert await _overdue_pages(db, settings, today, after=True) == expected, today
    on_the_12th = await _overdue_by_rule(db, date(2026, 3, 12))
    # Issued already due after the round: `late`; announced and still open: Euro Co's two
    # of the 10th (one part paid) and Dollar Inc's of the 5th. The rest paid, void, planned.
    assert on_the_12th == [late.id, made[2], made[1], made[4]]
    assert made[0] in await _overdue_by_rule(db, date(2026, 3, 16))  # its plan's first
    await assert_consistent(db)
