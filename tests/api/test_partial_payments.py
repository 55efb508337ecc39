"""An invoice paid in parts: every method takes part of what is due, never more; the last
payment makes it PAID; a refund gives back the payment it names; a payment plan's
installments are paid one at a time from the invoice page. SQLite and MariaDB, with the
real stripe client against the local fake."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from domain.bootstrap import Runtime
from domain.model.enums import ContactType
from tests.api.test_checkout import SHARE, Page, _webhook
from tests.api.test_checkout import _invoice as _walk_in_invoice
from tests.api.test_email import EMAIL
from tests.api.test_email import _api as _email_api
from tests.api.test_email import _invoice as _emailable_invoice
from tests.api.test_payments import _unpaid_invoice, with_stripe
from tests.consistency import assert_consistent
from tests.fakes.stripe_server import FakeStripe
from tests.helpers import Api, snapshot
from tests.pdf.test_rendering import pdf_pages

INVOICE = """query($id: ID!) { invoice(id: $id) {
  status total amountPaid amountDue paymentMethod refundedAmount actions
  payments { id amount method reference refundedAmount }
  installments { dueDate amount amountPaid }
  events { kind message } } }"""
PAY = """mutation($input: PayInvoiceInput!) {
  payInvoice(input: $input) { invoice { status amountPaid amountDue } errors { code message field } } }"""
REFUND = """mutation($id: ID!, $p: ID) {
  refundInvoice(id: $id, paymentId: $p) { invoice { status refundedAmount } errors { code message } } }"""
PLAN = """mutation($id: ID!, $parts: [InstallmentInput!]!) {
  createPaymentPlan(invoiceId: $id, installments: $parts) {
    invoice { amountDue installments { dueDate amount amountPaid } } errors { code message field } } }"""
CANCEL = """mutation($id: ID!) {
  cancelPaymentPlan(invoiceId: $id) { invoice { installments { amount } events { kind } } errors { code } } }"""
UNPAID_CARD = "{ invoiceStats { unpaid { amount count } } }"


@pytest.fixture
async def card_api(api: Api, runtime: Runtime, stripe_fake: FakeStripe) -> AsyncIterator[Api]:
    async with with_stripe(api, runtime, stripe_fake) as (ready, _):
        yield ready


async def _pay(api: Api, invoice_id: int, method: str, amount: str | None = None) -> dict:
    given = {"invoiceId": str(invoice_id), "method": method, "reference": f"{method} part"}
    if amount is not None:
        given["amount"] = amount
    return (await api.gql(PAY, {"input": given}))["payInvoice"]


async def _state(api: Api, invoice_id: int) -> dict:
    return (await api.gql(INVOICE, {"id": str(invoice_id)}))["invoice"]


async def test_partial_payments_by_every_method_add_up_and_never_overpay(
    card_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    invoice_id, _ = await _unpaid_invoice(card_api, runtime)  # 110.00
    for method, amount, so_far, due in (
        ("CASH", "30.00", "30.00", "80.00"),
        ("POS", "20.00", "50.00", "60.00"),
    ):
        paid = await _pay(card_api, invoice_id, method, amount)
        assert paid["errors"] == [] and paid["invoice"] == {
            "status": "UNPAID",
            "amountPaid": so_far,
            "amountDue": due,
        }
    before = await snapshot(card_api.db)
    too_much = await _pay(card_api, invoice_id, "BANK_TRANSFER", "60.01")
    assert too_much["errors"][0]["code"] == "AMOUNT_ABOVE_DUE"
    assert (
        too_much["errors"][0]["field"] == "amount"
        and "60.00 due" in too_much["errors"][0]["message"]
    )
    assert await snapshot(card_api.db) == before
    by_card = await _pay(card_api, invoice_id, "STRIPE", "25.00")
    assert by_card["errors"] == [] and stripe_fake.charges[-1]["amount"] == 2500
    last = await _pay(card_api, invoice_id, "BANK_TRANSFER")  # everything still due
    assert last["invoice"] == {"status": "PAID", "amountPaid": "110.00", "amountDue": "0.00"}
    invoice = await _state(card_api, invoice_id)
    assert [(p["method"], p["amount"]) for p in invoice["payments"]] == [
        ("CASH", "30.00"),
        ("POS", "20.00"),
        ("STRIPE", "25.00"),
        ("BANK_TRANSFER", "35.00"),
    ]
    assert invoice["payments"][2]["reference"] == stripe_fake.charges[-1]["id"]
    assert invoice["paymentMethod"] == "BANK_TRANSFER"
    kinds = [e["kind"] for e in invoice["events"]]
    assert kinds.count("PART_PAID") == 3 and kinds[-1] == "PAID"
    ledger = await card_api.gql(
        '{ transactions(filter: {search: "Payment for"}) { items { retailCost } } }'
    )
    paid_in = sorted(item["retailCost"] for item in ledger["transactions"]["items"])
    assert paid_in == ["-20.00", "-25.00", "-30.00", "-35.00"]
    again = await _pay(card_api, invoice_id, "CASH", "1.00")
    assert again["errors"][0]["code"] == "ALREADY_PAID"
    await assert_consistent(card_api.db)


async def test_the_unpaid_card_counts_what_is_still_due(card_api: Api, runtime: Runtime) -> None:
    first, _ = await _unpaid_invoice(card_api, runtime, "Acme")
    await _unpaid_invoice(card_api, runtime, "Globex")
    assert (await card_api.gql(UNPAID_CARD))["invoiceStats"]["unpaid"] == {
        "amount": "220.00",
        "count": 2,
    }
    await _pay(card_api, first, "CASH", "100.00")
    assert (await card_api.gql(UNPAID_CARD))["invoiceStats"]["unpaid"] == {
        "amount": "120.00",
        "count": 2,
    }
    await _pay(card_api, first, "CASH")
    assert (await card_api.gql(UNPAID_CARD))["invoiceStats"]["unpaid"] == {
        "amount": "110.00",
        "count": 1,
    }
    await assert_consistent(card_api.db)


async def test_two_payments_at_once_never_take_more_than_is_due(
    card_api: Api, runtime: Runtime
) -> None:
    invoice_id, _ = await _unpaid_invoice(card_api, runtime)
    answers = await asyncio.gather(
        *(
            _pay(card_api, invoice_id, method, "60.00")
            for method in ("CASH", "POS", "BANK_TRANSFER")
        )
    )
    assert sorted(bool(a["errors"]) for a in answers) == [False, True, True]
    refused = [a["errors"][0]["code"] for a in answers if a["errors"]]
    assert refused == ["AMOUNT_ABOVE_DUE", "AMOUNT_ABOVE_DUE"]
    invoice = await _state(card_api, invoice_id)
    assert (invoice["amountPaid"], invoice["amountDue"]) == ("60.00", "50.00")
    await assert_consistent(card_api.db)


async def test_a_part_paid_invoice_is_not_voided(card_api: Api, runtime: Runtime) -> None:
    invoice_id, _ = await _unpaid_invoice(card_api, runtime)
    await _pay(card_api, invoice_id, "CASH", "10.00")
    assert "VOID" not in (await _state(card_api, invoice_id))["actions"]
    voided = await card_api.gql(
        "mutation($id: ID!) { voidInvoice(id: $id) { errors { code message } } }",
        {"id": str(invoice_id)},
    )
    assert voided["voidInvoice"]["errors"][0]["code"] == "ALREADY_PAID"
    assert "part paid" in voided["voidInvoice"]["errors"][0]["message"]


async def test_a_refund_gives_back_the_card_payment_it_names(
    card_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    invoice_id, _ = await _unpaid_invoice(card_api, runtime)
    await _pay(card_api, invoice_id, "STRIPE", "50.00")
    await _pay(card_api, invoice_id, "STRIPE")  # the other 60.00
    first, second = (await _state(card_api, invoice_id))["payments"]
    refunded = (await card_api.gql(REFUND, {"id": str(invoice_id), "p": first["id"]}))[
        "refundInvoice"
    ]
    assert refunded["errors"] == []
    assert refunded["invoice"] == {"status": "PAID", "refundedAmount": "50.00"}
    assert stripe_fake.refunds[-1]["payment_intent"] == first["reference"]
    assert stripe_fake.refunds[-1]["amount"] == 5000
    again = (await card_api.gql(REFUND, {"id": str(invoice_id), "p": first["id"]}))["refundInvoice"]
    assert again["errors"][0]["code"] == "ALREADY_REFUNDED"
    rest = (await card_api.gql(REFUND, {"id": str(invoice_id)}))["refundInvoice"]
    assert rest["invoice"] == {"status": "REFUNDED", "refundedAmount": "110.00"}
    assert stripe_fake.refunds[-1]["payment_intent"] == second["reference"]
    payments = (await _state(card_api, invoice_id))["payments"]
    assert [p["refundedAmount"] for p in payments] == ["50.00", "60.00"]
    await assert_consistent(card_api.db)


async def _pay_form(page: Page) -> tuple[str, str, str]:
    html = await page.open()
    form = re.search(r"<form method='post' action='([^']+)'", html)
    token = re.search(r"name='token' value='([^']+)'", html)
    assert form and token, "no pay button on the page"
    return html, urlsplit(form.group(1)).path, token.group(1)


async def _checkout_and_pay(
    api: Api, fake: FakeStripe, page: Page, event_id: str, what: str = ""
) -> int:
    """Press the page's button (`what`: all for everything due), pay on the fake's page,
    deliver its webhook: the amount Stripe was asked for, in cents."""
    _, action, token = await _pay_form(page)
    data = {"token": token, **({"what": what} if what else {})}
    pressed = await api.client.post(action, data=data)
    assert pressed.status_code == 303
    session = next(s for s in fake.sessions.values() if s["url"] == pressed.headers["location"])
    paid = fake.pay_checkout(session["id"])
    assert (await _webhook(api, "checkout.session.completed", paid, event_id)).status_code == 200
    return int(session["amount_total"])


async def test_a_plan_of_two_installments_is_paid_one_at_a_time_from_the_page(
    shop: tuple[Api, Runtime], stripe_fake: FakeStripe
) -> None:
    api, runtime = shop
    invoice_id, page = await _walk_in_invoice(api, runtime)  # 110.00
    today = api.db.now().astimezone(runtime.settings.business.zone).date()
    first_due, second_due = today + timedelta(days=14), today + timedelta(days=44)
    before = await snapshot(api.db)
    wrong = (
        await api.gql(
            PLAN,
            {
                "id": str(invoice_id),
                "parts": [
                    {"dueDate": first_due.isoformat(), "amount": "60.00"},
                    {"dueDate": second_due.isoformat(), "amount": "40.00"},
                ],
            },
        )
    )["createPaymentPlan"]
    assert (
        wrong["errors"][0]["code"] == "INVALID_INPUT" and "110.00" in wrong["errors"][0]["message"]
    )
    assert await snapshot(api.db) == before
    parts = [
        {"dueDate": first_due.isoformat(), "amount": "60.00"},
        {"dueDate": second_due.isoformat(), "amount": "50.00"},
    ]
    made = (await api.gql(PLAN, {"id": str(invoice_id), "parts": parts}))["createPaymentPlan"]
    assert made["errors"] == []
    assert made["invoice"]["installments"] == [{**p, "amountPaid": "0.00"} for p in parts]
    twice = (await api.gql(PLAN, {"id": str(invoice_id), "parts": parts}))["createPaymentPlan"]
    assert twice["errors"][0]["code"] == "PLAN_EXISTS"

    html, _, _ = await _pay_form(page)
    assert "Next installment: $60.00" in html and "Pay $60.00 online" in html
    assert await _checkout_and_pay(api, stripe_fake, page, "evt_first") == 6000
    invoice = await _state(api, invoice_id)
    assert (invoice["status"], invoice["amountPaid"], invoice["amountDue"]) == (
        "UNPAID",
        "60.00",
        "50.00",
    )
    assert [i["amountPaid"] for i in invoice["installments"]] == ["60.00", "0.00"]
    html, _, _ = await _pay_form(page)
    assert "$60.00 received so far" in html and "Pay $50.00 online" in html
    assert await _checkout_and_pay(api, stripe_fake, page, "evt_second") == 5000
    invoice = await _state(api, invoice_id)
    assert (invoice["status"], invoice["amountDue"]) == ("PAID", "0.00")
    assert [i["amountPaid"] for i in invoice["installments"]] == ["60.00", "50.00"]
    assert "Paid on" in await page.open()
    await assert_consistent(api.db)


async def test_the_customer_may_pay_everything_due_instead_of_the_next_installment(
    shop: tuple[Api, Runtime], stripe_fake: FakeStripe
) -> None:
    api, runtime = shop
    invoice_id, page = await _walk_in_invoice(api, runtime)
    today = api.db.now().astimezone(runtime.settings.business.zone).date()
    parts = [
        {"dueDate": (today + timedelta(days=days)).isoformat(), "amount": amount}
        for days, amount in ((10, "10.00"), (40, "100.00"))
    ]
    assert (await api.gql(PLAN, {"id": str(invoice_id), "parts": parts}))["createPaymentPlan"][
        "errors"
    ] == []
    html, _, _ = await _pay_form(page)
    assert "Pay everything due ($110.00)" in html
    assert await _checkout_and_pay(api, stripe_fake, page, "evt_all", what="all") == 11000
    invoice = await _state(api, invoice_id)
    assert invoice["status"] == "PAID"
    assert [i["amountPaid"] for i in invoice["installments"]] == ["10.00", "100.00"]
    found = (await api.gql(SHARE, {"id": str(invoice_id)}))["invoice"]
    assert found["status"] == "PAID"


async def test_a_plan_is_cancelled_and_the_payments_made_stay(
    card_api: Api, runtime: Runtime
) -> None:
    invoice_id, _ = await _unpaid_invoice(card_api, runtime)
    today = card_api.db.now().astimezone(runtime.settings.business.zone).date()
    parts = [
        {"dueDate": (today + timedelta(days=d)).isoformat(), "amount": a}
        for d, a in ((5, "55.00"), (35, "55.00"))
    ]
    await card_api.gql(PLAN, {"id": str(invoice_id), "parts": parts})
    await _pay(card_api, invoice_id, "CASH", "55.00")
    cancelled = (await card_api.gql(CANCEL, {"id": str(invoice_id)}))["cancelPaymentPlan"]
    assert cancelled["errors"] == [] and cancelled["invoice"]["installments"] == []
    assert cancelled["invoice"]["events"][-1]["kind"] == "PLAN_CANCELLED"
    invoice = await _state(card_api, invoice_id)
    assert (invoice["amountPaid"], invoice["amountDue"]) == ("55.00", "55.00")
    again = (await card_api.gql(CANCEL, {"id": str(invoice_id)}))["cancelPaymentPlan"]
    assert again["errors"][0]["code"] == "NOT_FOUND"
    await assert_consistent(card_api.db)


async def test_a_part_paid_invoices_email_and_pdf_state_the_balance_and_the_plan(
    api: Api, runtime: Runtime, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    async for dev in _email_api(
        api, runtime, email={"backend": "outbox", "outbox_dir": str(outbox)}
    ):
        invoice_id, _ = await _emailable_invoice(
            dev, runtime, [("ap@acme.example", ContactType.BILLING)]
        )  # 110.00, due 2025-02-15
        today = dev.db.now().astimezone(runtime.settings.business.zone).date()
        parts = [
            {"dueDate": (today + timedelta(days=d)).isoformat(), "amount": a}
            for d, a in ((7, "55.00"), (37, "55.00"))
        ]
        assert (await dev.gql(PLAN, {"id": str(invoice_id), "parts": parts}))["createPaymentPlan"][
            "errors"
        ] == []
        assert (await _pay(dev, invoice_id, "CASH", "60.00"))["errors"] == []
        assert (await dev.gql(EMAIL, {"id": str(invoice_id)}))["emailInvoice"]["errors"] == []
        pdf = await dev.client.get(
            f"/crm/invoice/{invoice_id}/pdf",
            headers={"Authorization": f"Bearer {await dev.staff_token()}"},
        )
    [file] = list(outbox.glob("*.eml"))
    message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "$60.00 of it has been received: $50.00 is still due." in text
    assert "Payment plan:" in text and "- $55.00 by" in text and "(paid)" in text
    assert "Received so far" in html and "$50.00" in html and "Payment plan" in html
    [page] = pdf_pages(pdf.content)
    assert "Amount paid" in page and "$60.00" in page
    assert "Balance due" in page and "$50.00" in page
    # Two installments of $55.00; the first filled ($55.00 paid), $5.00 into the second.
    assert "Payment plan" in page and page.count("$55.00") == 3 and "$5.00" in page
