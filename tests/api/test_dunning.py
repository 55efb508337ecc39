"""Overdue invoices, noticed, reminded and charged as their terms say, on SQLite and
MariaDB; every date pinned (the clock, and the round's own `today`)."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from domain.bootstrap import Runtime, open_mail
from domain.config import Settings, settings_from_mapping
from domain.model.access import SYSTEM
from domain.model.commands import GenerateRequest
from domain.model.entities import Reminder
from domain.model.enums import ContactType
from domain.services import billing
from domain.services.dunning import DunningReport, run_round
from graph.app import build_app
from tests.conftest import TEMPLATES
from tests.consistency import assert_consistent
from tests.fakes.clock import PinnableClock
from tests.helpers import Api, add_contact, make_charge, make_customer, snapshot

DUE = date(2026, 3, 10)
INVOICING = str(Path(sys.executable).with_name("invoicing"))
STATE = """query($id: ID!) { invoice(id: $id) { number status overdue daysOverdue amountDue
  events { kind message } } }"""
OVERDUE_LIST = "{ invoices(filter: {overdue: true}) { totalCount items { id } } }"
CARDS = "{ invoiceStats { overdue { amount count } unpaid { amount count } } }"
AGING = "{ receivablesAging { current days1To30 days31To60 days61To90 over90 } }"
BALANCE = (
    "query($id: ID!) { customer(id: $id) { remindersEnabled balance { outstanding overdue } } }"
)
PAY = """mutation($id: ID!, $amount: Decimal) {
  payInvoice(input: {invoiceId: $id, method: CASH, amount: $amount}) { errors { code } } }"""
UNBILLED = "query($id: ID!) { customer(id: $id) { unbilledTransactions { title retailCost taxPercentage } } }"


@dataclasses.dataclass
class Desk:
    """The billing team's API and the round's own wiring, on the test's database."""

    api: Api
    runtime: Runtime
    settings: Settings
    outbox: Path

    async def round(self, today: date, dry_run: bool = False) -> DunningReport:
        mail = open_mail(self.settings, self.runtime.clock)
        return await run_round(self.api.db, self.settings, self.runtime.pdfs, mail, today, dry_run)

    def sent(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(self.outbox.glob("*.eml"))
        ]


def _settings(runtime: Runtime, outbox: Path, **dunning: object) -> Settings:
    return settings_from_mapping(
        {
            "database": {"url": runtime.settings.database.url},
            "server": {"public_url": "https://crm.example.test"},
            "business": {"timezone": "UTC"},
            "invoice": {
                "template_dir": str(TEMPLATES),
                "pdf_cache": {"prerender_on_generate": False},
            },
            "email": {"backend": "outbox", "outbox_dir": str(outbox)},
            "dunning": {"late_fee_percent_per_month": 2, **dunning},
        }
    )


@pytest.fixture
async def desk(
    api: Api, runtime: Runtime, clock: PinnableClock, tmp_path: Path
) -> AsyncIterator[Desk]:
    clock.pin(datetime(2026, 3, 1, 9, tzinfo=UTC))
    settings = _settings(runtime, tmp_path / "outbox")
    configured = dataclasses.replace(runtime, settings=settings)
    transport = httpx.ASGITransport(app=build_app(settings, runtime=configured))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        ready = Api(client, api.db)
        ready._staff = await api.staff_token()
        yield Desk(ready, configured, settings, tmp_path / "outbox")


async def _invoice(desk: Desk, name: str = "Acme", cost: str = "100.00") -> tuple[int, int]:
    """An invoice of 110.00 (`cost` plus 10% tax) due on DUE, issued on March 1st."""
    customer = await make_customer(desk.api.db, name)
    await add_contact(desk.api.db, customer.id, f"ap@{name.lower()}.example", ContactType.BILLING)
    await make_charge(
        desk.api.db, customer.id, cost, tax="10", created_at=datetime(2026, 2, 5, tzinfo=UTC)
    )
    request = GenerateRequest(
        customer.id, start_date=date(2026, 2, 1), end_date=date(2026, 2, 28), due_date=DUE
    )
    invoice = await billing.generate_invoice(desk.api.db, desk.settings, SYSTEM, request)
    return invoice.id, customer.id


async def test_an_invoice_past_due_is_overdue_filtered_counted_and_aged_until_paid(
    desk: Desk, clock: PinnableClock
) -> None:
    invoice_id, customer_id = await _invoice(desk)
    await _invoice(desk, "Globex")  # due the same day, paid below
    api = desk.api
    state = (await api.gql(STATE, {"id": str(invoice_id)}))["invoice"]
    assert (state["overdue"], state["daysOverdue"]) == (False, 0)  # March 1st: not yet due
    clock.pin(datetime(2026, 4, 20, 9, tzinfo=UTC))  # 41 days after DUE
    state = (await api.gql(STATE, {"id": str(invoice_id)}))["invoice"]
    assert (state["overdue"], state["daysOverdue"]) == (True, 41)
    assert (await api.gql(OVERDUE_LIST))["invoices"]["totalCount"] == 2
    await api.gql(PAY, {"id": str(invoice_id), "amount": "10.00"})
    cards = (await api.gql(CARDS))["invoiceStats"]
    assert cards["overdue"] == {"amount": "210.00", "count": 2}
    aging = (await api.gql(AGING))["receivablesAging"]
    assert aging == {
        "current": "0.00",
        "days1To30": "0.00",
        "days31To60": "210.00",
        "days61To90": "0.00",
        "over90": "0.00",
    }
    balance = (await api.gql(BALANCE, {"id": str(customer_id)}))["customer"]
    assert balance == {
        "remindersEnabled": True,
        "balance": {"outstanding": "100.00", "overdue": "100.00"},
    }
    await api.gql(PAY, {"id": str(invoice_id), "amount": None})
    state = (await api.gql(STATE, {"id": str(invoice_id)}))["invoice"]
    assert (state["status"], state["overdue"], state["daysOverdue"]) == ("PAID", False, 0)
    listed = (await api.gql(OVERDUE_LIST))["invoices"]
    assert listed["totalCount"] == 1 and listed["items"][0]["id"] != str(invoice_id)
    assert (await api.gql(CARDS))["invoiceStats"]["overdue"] == {"amount": "110.00", "count": 1}
    not_late = "{ invoices(filter: {overdue: false}) { totalCount } }"
    assert (await api.gql(not_late))["invoices"]["totalCount"] == 1


async def test_the_schedule_sends_step_by_step_and_never_twice(desk: Desk) -> None:
    invoice_id, _ = await _invoice(desk)
    assert (await desk.round(DUE - timedelta(days=4))).sent == []
    soon = await desk.round(DUE - timedelta(days=3))
    assert [(step, to) for _, step, to in soon.sent] == [(-3, "ap@acme.example")]
    assert (await desk.round(DUE - timedelta(days=3))).sent == []  # the same day again
    assert (await desk.round(DUE)).sent == []
    late = await desk.round(DUE + timedelta(days=1))
    assert [step for _, step, _ in late.sent] == [1]
    assert late.overdue == [late.sent[0][0]]  # announced overdue once
    assert (await desk.round(DUE + timedelta(days=2))).overdue == []
    # Weeks without a round: the next sends the latest step due, not the three missed.
    weeks_later = await desk.round(DUE + timedelta(days=31))
    assert [step for _, step, _ in weeks_later.sent] == [30]
    assert (await desk.round(DUE + timedelta(days=60))).sent == []
    messages = {str(m["Subject"]).split(" is ", 1)[1]: m for m in desk.sent()}
    assert sorted(messages) == ["1 day overdue", "31 days overdue", "due on March 10, 2026"]
    last = messages["31 days overdue"]
    text = last.get_body(preferencelist=("plain",)).get_content()
    assert "$110.00 is still due" in text and "Pay online: https://crm.example.test/i/" in text
    [pdf] = [a for a in last.iter_attachments() if a.get_content_type() == "application/pdf"]
    assert pdf.get_filename() == f"Invoice_{invoice_id:05d}.pdf"
    history = (await desk.api.gql(STATE, {"id": str(invoice_id)}))["invoice"]["events"]
    assert [e["kind"] for e in history].count("REMINDED") == 3
    assert [e["kind"] for e in history].count("OVERDUE") == 1


async def test_a_dry_run_says_what_it_would_do_and_does_nothing(desk: Desk) -> None:
    invoice_id, _ = await _invoice(desk)
    before = await snapshot(desk.api.db)
    planned = await desk.round(DUE + timedelta(days=40), dry_run=True)
    assert [(step, to) for _, step, to in planned.sent] == [(30, "ap@acme.example")]
    assert [(month, fee) for _, month, fee in planned.fees] == [(1, Decimal("2.20"))]
    assert len(planned.overdue) == 1
    assert await snapshot(desk.api.db) == before and desk.sent() == []


async def test_paid_void_credit_and_opted_out_invoices_get_no_reminder(desk: Desk) -> None:
    paid, _ = await _invoice(desk, "Paid")
    voided, _ = await _invoice(desk, "Voided")
    _, quiet_customer = await _invoice(desk, "Quiet")
    await _invoice(desk, "Credited", cost="-50.00")  # a credit note: nothing to ask for
    await desk.api.gql(PAY, {"id": str(paid), "amount": None})
    await desk.api.gql(
        "mutation($id: ID!) { voidInvoice(id: $id) { errors { code } } }", {"id": str(voided)}
    )
    opted_out = await desk.api.gql(
        'mutation($id: ID!) { updateCustomer(id: $id, input: {name: "Quiet", remindersEnabled: false})'
        " { customer { remindersEnabled } errors { code } } }",
        {"id": str(quiet_customer)},
    )
    assert opted_out["updateCustomer"]["customer"]["remindersEnabled"] is False
    report = await desk.round(DUE + timedelta(days=7))
    assert report.sent == [] and desk.sent() == []
    # The quiet customer's invoice is still overdue, and still charged as its terms say.
    assert len(report.overdue) == 1 and len(report.fees) == 0


async def test_the_late_fee_is_booked_once_a_month_on_what_is_still_due(desk: Desk) -> None:
    invoice_id, customer_id = await _invoice(desk)
    api = desk.api
    assert (await desk.round(DUE + timedelta(days=30))).fees == []  # not a whole month yet
    first = await desk.round(date(2026, 4, 10))
    assert [(month, fee) for _, month, fee in first.fees] == [(1, Decimal("2.20"))]
    assert (await desk.round(date(2026, 4, 25))).fees == []  # the same month again
    await api.gql(PAY, {"id": str(invoice_id), "amount": "60.00"})  # 50.00 still due
    second = await desk.round(date(2026, 5, 10))
    assert [(month, fee) for _, month, fee in second.fees] == [(2, Decimal("1.00"))]
    await api.gql(PAY, {"id": str(invoice_id), "amount": None})
    assert (await desk.round(date(2026, 8, 10))).fees == []  # paid: no more fees
    charges = (await api.gql(UNBILLED, {"id": str(customer_id)}))["customer"]
    number = (await api.gql(STATE, {"id": str(invoice_id)}))["invoice"]["number"]
    assert sorted(charges["unbilledTransactions"], key=lambda c: c["title"]) == [
        {
            "title": f"Late payment fee: {number}, month 1",
            "retailCost": "2.20",
            "taxPercentage": "0.00",
        },
        {
            "title": f"Late payment fee: {number}, month 2",
            "retailCost": "1.00",
            "taxPercentage": "0.00",
        },
    ]
    await assert_consistent(api.db)


async def test_fees_missed_for_months_are_each_booked_once_and_voiding_removes_them(
    desk: Desk,
) -> None:
    invoice_id, customer_id = await _invoice(desk)
    late = await desk.round(date(2026, 6, 15))  # three whole months after DUE
    assert [(month, fee) for _, month, fee in late.fees] == [
        (1, Decimal("2.20")),
        (2, Decimal("2.20")),
        (3, Decimal("2.20")),
    ]
    assert (await desk.round(date(2026, 6, 15))).fees == []
    await desk.api.gql(
        "mutation($id: ID!) { voidInvoice(id: $id) { errors { code } } }", {"id": str(invoice_id)}
    )
    charges = (await desk.api.gql(UNBILLED, {"id": str(customer_id)}))["customer"]
    # The invoice's own charge is billable again; its unbilled late fees are gone.
    titles = [c["title"] for c in charges["unbilledTransactions"]]
    assert len(titles) == 1 and not titles[0].startswith("Late payment fee"), titles
    await assert_consistent(desk.api.db)


@pytest.mark.slow  # three `invoicing dunning run` processes
async def test_three_rounds_at_once_from_separate_processes_send_each_reminder_once(
    desk: Desk, tmp_path: Path
) -> None:
    await _invoice(desk, "Acme")
    await _invoice(desk, "Globex")
    config = tmp_path / "crm.yaml"
    config.write_text(
        f"invoice:\n  template_dir: {TEMPLATES}\n  render_workers: 1\n"
        f"email:\n  backend: outbox\n  outbox_dir: {desk.outbox}\n"
        "business:\n  timezone: UTC\n"
        "dunning:\n  late_fee_percent_per_month: 2\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("CRM_CONFIG", "DATABASE_URL")},
        "CRM_CONFIG": str(config),
        "DATABASE_URL": desk.settings.database.url,
    }
    today = (DUE + timedelta(days=40)).isoformat()
    rounds = [
        await asyncio.create_subprocess_exec(
            INVOICING,
            "dunning",
            "run",
            "--today",
            today,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    outputs = await asyncio.gather(*(process.communicate() for process in rounds))
    assert [process.returncode for process in rounds] == [0, 0, 0], outputs
    said = "".join(out.decode() for out, _ in outputs)
    assert said.count("send reminder (day +30)") == 2  # one per invoice, whichever round
    assert said.count("book late fee, month 1") == 2
    assert len(desk.sent()) == 2
    async with desk.api.db.read() as session:
        claims = list((await session.execute(select(Reminder))).scalars())
    assert sorted((c.step, c.state) for c in claims) == [(30, "SENT"), (30, "SENT")]
    await assert_consistent(desk.api.db)


async def test_the_next_invoice_bills_the_late_fee_and_its_e_invoice_is_valid(
    desk: Desk, clock: PinnableClock
) -> None:
    invoice_id, customer_id = await _invoice(desk)
    clock.pin(datetime(2026, 4, 12, 9, tzinfo=UTC))
    assert len((await desk.round(date(2026, 4, 12))).fees) == 1
    unbilled = await desk.api.gql(
        "query($id: ID!) { customer(id: $id) { unbilledTransactions { id title } } }",
        {"id": str(customer_id)},
    )
    [fee] = unbilled["customer"]["unbilledTransactions"]
    made = await desk.api.gql(
        "mutation($c: ID!, $t: [ID!]) { generateInvoice(input: {customerId: $c, "
        'startDate: "2026-04-01", endDate: "2026-04-30", transactionIds: $t}) '
        "{ invoice { total lines { title } eInvoice(format: UBL) { valid } } errors { code message } } }",
        {"c": str(customer_id), "t": [fee["id"]]},
    )
    billed = made["generateInvoice"]
    assert billed["errors"] == [], billed
    assert billed["invoice"]["total"] == "2.20"
    assert billed["invoice"]["lines"] == [{"title": fee["title"]}]
    assert billed["invoice"]["eInvoice"] == {"valid": True}
