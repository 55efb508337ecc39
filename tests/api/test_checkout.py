"""A customer with no saved card pays from the emailed link: the invoice page's button opens
a Stripe Checkout session (the real stripe client against the local fake), the browser is
sent there, and the webhook, or the reconciler when the webhook is lost, settles the
invoice once, checked against what was asked. SQLite and MariaDB."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from domain.bootstrap import Runtime
from domain.model.access import SYSTEM
from domain.model.commands import GenerateRequest
from domain.services import billing
from domain.services.payments.reconcile import reconcile_payments
from tests.api.test_payments import WEBHOOK_SECRET
from tests.consistency import assert_consistent
from tests.fakes.clock import PinnableClock
from tests.fakes.stripe_server import FakeStripe, signed
from tests.helpers import Api, make_charge, make_customer, snapshot

SHARE = "query($id: ID!) { invoice(id: $id) { number status payUrl paymentReference events { kind actor message } } }"


class Page:
    """The invoice's customer, in a browser: opens the page, presses the button."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.client = client
        self.path = urlsplit(url).path

    async def open(self, query: str = "") -> str:
        answer = await self.client.get(self.path + query)
        assert answer.status_code == 200, answer.text
        return answer.text

    async def press_pay(self, **headers: str) -> httpx.Response:
        page = await self.open()
        form = re.search(r"<form method='post' action='([^']+)'", page)
        token = re.search(r"name='token' value='([^']+)'", page)
        assert form and token, "no pay button on the page"
        return await self.client.post(
            urlsplit(form.group(1)).path, data={"token": token.group(1)}, headers=headers
        )


async def _invoice(api: Api, runtime: Runtime) -> tuple[int, Page]:
    customer = await make_customer(api.db, "Walk-in Ltd")  # no saved card
    await make_charge(
        api.db, customer.id, "100.00", tax="10", created_at=datetime(2025, 1, 5, tzinfo=UTC)
    )
    request = GenerateRequest(customer.id, start_date=date(2025, 1, 1), end_date=date(2025, 1, 31))
    invoice = await billing.generate_invoice(api.db, runtime.settings, SYSTEM, request)
    found = (await api.gql(SHARE, {"id": str(invoice.id)}))["invoice"]
    return invoice.id, Page(api.client, found["payUrl"])


async def _webhook(api: Api, event_type: str, obj: dict, event_id: str) -> httpx.Response:
    body, signature = signed(
        {"id": event_id, "type": event_type, "data": {"object": obj}}, WEBHOOK_SECRET
    )
    return await api.client.post(
        "/webhooks/stripe", content=body, headers={"Stripe-Signature": signature}
    )


async def test_a_customer_without_a_saved_card_pays_from_the_emailed_link(
    shop: tuple[Api, Runtime],
    stripe_fake: FakeStripe,
) -> None:
    api, runtime = shop
    invoice_id, page = await _invoice(api, runtime)
    assert "Pay $110.00 online" in await page.open()
    pressed = await page.press_pay()
    assert pressed.status_code == 303
    [session] = stripe_fake.sessions.values()
    assert pressed.headers["location"] == session["url"]
    async with httpx.AsyncClient() as browser:  # the customer lands on Stripe's page
        assert "Fake Checkout" in (await browser.get(session["url"])).text
    # What Stripe was asked: the amount due in minor units, naming the invoice and attempt.
    assert (session["amount_total"], session["currency"], session["mode"]) == (
        11000,
        "usd",
        "payment",
    )
    assert session["metadata"]["invoice_id"] == str(invoice_id) and session["metadata"]["attempt"]
    assert session["client_reference_id"] == str(invoice_id)
    assert session["success_url"].startswith("https://crm.example.test/i/")
    # Back from Stripe before its webhook: the page says the payment is being confirmed.
    assert "being confirmed" in await page.open("?checkout=done")

    paid = stripe_fake.pay_checkout(session["id"])
    assert (await _webhook(api, "checkout.session.completed", paid, "evt_cs_1")).status_code == 200
    found = (await api.gql(SHARE, {"id": str(invoice_id)}))["invoice"]
    assert found["status"] == "PAID" and found["paymentReference"] == paid["payment_intent"]
    # Its PaymentIntent's own event, and the same event again, change nothing more.
    intent = stripe_fake.intents[paid["payment_intent"]]
    before = await snapshot(api.db)
    await _webhook(api, "payment_intent.succeeded", intent, "evt_pi_1")
    await _webhook(api, "checkout.session.completed", paid, "evt_cs_1")
    after = await snapshot(api.db)
    assert (
        after["transactions"] == before["transactions"] and after["invoices"] == before["invoices"]
    )
    page_now = await page.open()
    assert "Paid on" in page_now and "<form" not in page_now
    await assert_consistent(api.db)


async def test_a_second_press_returns_to_the_same_checkout(
    shop: tuple[Api, Runtime],
    stripe_fake: FakeStripe,
) -> None:
    api, runtime = shop
    _, page = await _invoice(api, runtime)
    first = await page.press_pay()
    second = await page.press_pay()
    assert first.headers["location"] == second.headers["location"]
    assert len(stripe_fake.sessions) == 1


async def test_a_payment_for_the_wrong_amount_pays_nothing(
    shop: tuple[Api, Runtime],
    stripe_fake: FakeStripe,
) -> None:
    api, runtime = shop
    invoice_id, page = await _invoice(api, runtime)
    await page.press_pay()
    [session] = stripe_fake.sessions.values()
    paid = stripe_fake.pay_checkout(session["id"], amount=5000)
    await _webhook(api, "checkout.session.completed", paid, "evt_cs_short")
    found = (await api.gql(SHARE, {"id": str(invoice_id)}))["invoice"]
    assert found["status"] == "UNPAID"
    assert found["events"][-1]["kind"] == "NEEDS_REVIEW"


async def _paid_twice(
    api: Api, runtime: Runtime, fake: FakeStripe, stripe_away: bool = False
) -> tuple[int, str]:
    """The customer opens the checkout in one tab; the invoice is paid in cash meanwhile;
    then the customer pays on the checkout. Its webhook arrives: the intent's id."""
    invoice_id, page = await _invoice(api, runtime)
    await page.press_pay()
    cash = "mutation($id: ID!) { payInvoice(input: {invoiceId: $id, method: CASH}) { errors { code } } }"
    assert (await api.gql(cash, {"id": str(invoice_id)}))["payInvoice"]["errors"] == []
    [session] = fake.sessions.values()
    paid = fake.pay_checkout(session["id"])
    if stripe_away:
        fake.fail_next = 3  # the call and both retries of the client
    await _webhook(api, "checkout.session.completed", paid, "evt_cs_twice")
    return invoice_id, paid["payment_intent"]


async def test_a_second_payment_for_an_invoice_paid_meanwhile_is_given_back(
    shop: tuple[Api, Runtime], stripe_fake: FakeStripe
) -> None:
    api, runtime = shop
    invoice_id, second = await _paid_twice(api, runtime, stripe_fake)
    found = (await api.gql(SHARE, {"id": str(invoice_id)}))["invoice"]
    assert found["status"] == "PAID" and found["paymentReference"] is None  # the cash one
    [refund] = stripe_fake.refunds
    assert (refund["payment_intent"], refund["amount"]) == (second, 11000)
    assert "was given back" in found["events"][-1]["message"]
    # The same event again, and the reconciler, give nothing back a second time.
    paid = stripe_fake.sessions[next(iter(stripe_fake.sessions))]
    await _webhook(api, "checkout.session.completed", paid, "evt_cs_twice_again")
    await reconcile_payments(api.db, runtime.settings, runtime.metrics, runtime.cards)
    assert len(stripe_fake.refunds) == 1
    await assert_consistent(api.db)


async def test_a_second_payment_is_given_back_by_the_reconciler_when_stripe_was_away(
    shop: tuple[Api, Runtime], stripe_fake: FakeStripe
) -> None:
    api, runtime = shop
    invoice_id, second = await _paid_twice(api, runtime, stripe_fake, stripe_away=True)
    assert stripe_fake.refunds == []  # Stripe was away when the webhook came
    report = await reconcile_payments(api.db, runtime.settings, runtime.metrics, runtime.cards)
    assert report.outcomes == {"second payment given back": 1}
    assert [r["payment_intent"] for r in stripe_fake.refunds] == [second]
    found = (await api.gql(SHARE, {"id": str(invoice_id)}))["invoice"]
    assert found["status"] == "PAID"


async def test_a_lost_webhook_is_settled_by_asking_stripe(
    shop: tuple[Api, Runtime],
    stripe_fake: FakeStripe,
    clock: PinnableClock,
) -> None:
    api, runtime = shop
    invoice_id, page = await _invoice(api, runtime)
    await page.press_pay()
    [session] = stripe_fake.sessions.values()
    stripe_fake.pay_checkout(session["id"])  # and its webhook never arrives
    clock.pin(datetime.now(UTC) + timedelta(minutes=2))
    report = await reconcile_payments(api.db, runtime.settings, runtime.metrics, runtime.cards)
    assert report.outcomes == {"invoice paid": 1}
    found = (await api.gql(SHARE, {"id": str(invoice_id)}))["invoice"]
    assert found["status"] == "PAID"
    assert any(e["kind"] == "PAYMENT_RECONCILED" for e in found["events"])


async def test_a_post_from_another_site_or_without_the_pages_token_opens_nothing(
    shop: tuple[Api, Runtime],
    stripe_fake: FakeStripe,
) -> None:
    api, runtime = shop
    _, page = await _invoice(api, runtime)
    cross = await page.press_pay(Origin="https://evil.example")
    assert cross.status_code == 403
    forged = await api.client.post(page.path + "/pay", data={"token": "0" * 64})
    assert forged.status_code == 403
    fetched = await page.press_pay(**{"Sec-Fetch-Site": "cross-site"})
    assert fetched.status_code == 403
    assert stripe_fake.sessions == {}
    # Our own page's post: the browser hides its origin ("null": the page sends no referrer).
    ours = await page.press_pay(Origin="null", **{"Sec-Fetch-Site": "same-origin"})
    assert ours.status_code == 303 and len(stripe_fake.sessions) == 1


async def test_without_stripe_the_page_offers_the_bank_transfer_only(
    api: Api, runtime: Runtime
) -> None:
    _, page = await _invoice(api, runtime)
    text = await page.open()
    assert "Pay by bank transfer" in text and "<form" not in text
