"""Card payments, refunds and webhooks through the API, with the real stripe-python client
talking to a local fake Stripe."""

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy import select

from domain.adapters.stripe_gateway import StripeGateway
from domain.bootstrap import Runtime
from domain.config import StripeSettings, settings_from_mapping
from domain.model.access import SYSTEM
from domain.model.commands import GenerateRequest
from domain.model.entities import Deployment
from domain.services import billing
from domain.services.payments.reconcile import reconcile_payments
from graph.app import build_app
from tests.conftest import TEMPLATES
from tests.consistency import assert_consistent
from tests.fakes.stripe_server import FakeStripe, signed
from tests.helpers import Api, make_charge, make_customer, snapshot

WEBHOOK_SECRET = "whsec_test_secret"

ATTACH = """
mutation($c: ID!, $pm: String!, $d: Boolean!) {
  attachPaymentMethod(customerId: $c, stripePaymentMethodId: $pm, makeDefault: $d) {
    customer { paymentMethods { id brand last4 expMonth expYear isDefault } } errors { code message field }
  }
}"""

PAY = """
mutation($input: PayInvoiceInput!) {
  payInvoice(input: $input) {
    invoice { id status paymentMethod paymentReference paidAt actions events { kind actor message } }
    errors { code message }
  }
}"""

REFUND = "mutation($id: ID!) { refundInvoice(id: $id) { invoice { status refundReference actions } errors { code message } } }"


@asynccontextmanager
async def with_stripe(
    api: Api, runtime: Runtime, fake: FakeStripe, base_url: str = "http://testserver", **stripe: str
) -> AsyncIterator[tuple[Api, Runtime]]:
    """The API with Stripe configured against the local fake: a client and its runtime."""
    fake.reset()
    settings = settings_from_mapping(
        {
            "database": {"url": runtime.settings.database.url},
            "server": {"public_url": "https://crm.example.test"},
            "invoice": {
                "template_dir": str(TEMPLATES),
                "pdf_cache": {"prerender_on_generate": False},
            },
            "stripe": {
                "secret_key": "sk_test_fake",
                "api_base": fake.url,
                "webhook_secret": WEBHOOK_SECRET,
                **stripe,
            },
        }
    )
    configured = dataclasses.replace(
        runtime, settings=settings, cards=StripeGateway(settings.stripe)
    )
    transport = httpx.ASGITransport(app=build_app(settings, runtime=configured))
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        ready = Api(client, api.db)
        ready._staff = await api.staff_token()
        yield ready, configured


@pytest.fixture
async def pay_api(api: Api, runtime: Runtime, stripe_fake: FakeStripe) -> AsyncIterator[Api]:
    async with with_stripe(api, runtime, stripe_fake) as (ready, _):
        yield ready


async def _unpaid_invoice(
    api: Api, runtime: Runtime, name: str = "Acme", cards: tuple[str, ...] = ("pm_card_visa",)
) -> tuple[int, int]:
    customer = await make_customer(api.db, name)
    await make_charge(
        api.db, customer.id, "100.00", tax="10", created_at=datetime(2025, 1, 5, tzinfo=UTC)
    )
    for card in cards:
        attached = await api.gql(
            ATTACH, {"c": str(customer.id), "pm": f"{card}_{customer.id}", "d": False}
        )
        assert attached["attachPaymentMethod"]["errors"] == [], attached
    request = GenerateRequest(
        customer_id=customer.id, start_date=date(2025, 1, 1), end_date=date(2025, 1, 31)
    )
    invoice = await billing.generate_invoice(api.db, runtime.settings, SYSTEM, request)
    return invoice.id, customer.id


async def test_a_card_is_saved_and_the_first_becomes_the_default(
    pay_api: Api, stripe_fake: FakeStripe
) -> None:
    customer = await make_customer(pay_api.db)
    first = (await pay_api.gql(ATTACH, {"c": str(customer.id), "pm": "pm_card_visa", "d": False}))[
        "attachPaymentMethod"
    ]
    assert first["errors"] == []
    assert first["customer"]["paymentMethods"] == [
        {
            "id": first["customer"]["paymentMethods"][0]["id"],
            "brand": "visa",
            "last4": "4242",
            "expMonth": 12,
            "expYear": 2034,
            "isDefault": True,
        }
    ]
    second = (
        await pay_api.gql(ATTACH, {"c": str(customer.id), "pm": "pm_card_mastercard", "d": True})
    )["attachPaymentMethod"]
    assert [(m["last4"], m["isDefault"]) for m in second["customer"]["paymentMethods"]] == [
        ("4444", True),
        ("4242", False),
    ]
    assert any(c["name"] == customer.name for c in stripe_fake.customers)
    unknown = (await pay_api.gql(ATTACH, {"c": str(customer.id), "pm": "pm_nope", "d": False}))[
        "attachPaymentMethod"
    ]
    assert (
        unknown["errors"][0]["code"] == "INVALID_INPUT"
        and "No such PaymentMethod: 'pm_nope'" in unknown["errors"][0]["message"]
    )


async def test_paying_charges_the_default_card_once(
    pay_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    invoice_id, _ = await _unpaid_invoice(
        pay_api, runtime, cards=("pm_card_mastercard", "pm_card_visa")
    )
    paid = (await pay_api.gql(PAY, {"input": {"invoiceId": str(invoice_id), "method": "STRIPE"}}))[
        "payInvoice"
    ]
    assert paid["errors"] == []
    invoice = paid["invoice"]
    assert (invoice["status"], invoice["paymentMethod"]) == ("PAID", "STRIPE")
    assert invoice["paymentReference"] == stripe_fake.charges[0]["id"] and invoice["actions"] == [
        "DOWNLOAD_PDF",
        "SEND_EMAIL",
        "REFUND",
    ]
    assert len(stripe_fake.charges) == 1
    charge = stripe_fake.charges[0]
    assert (charge["amount"], charge["currency"]) == (11000, "usd")
    assert charge["payment_method"].startswith("pm_card_mastercard")
    assert charge["metadata"]["invoice_id"] == str(invoice_id)
    assert [e["kind"] for e in invoice["events"]] == ["GENERATED", "PAYMENT_SUCCEEDED", "PAID"]
    assert invoice["events"][-1]["actor"] == "test staff"
    payments = await pay_api.gql(
        '{ transactions(filter: {search: "Payment for"}) { items { kind retailCost } } }'
    )
    assert payments["transactions"]["items"] == [{"kind": "PAYMENT", "retailCost": "-110.00"}]


async def test_paying_with_a_chosen_card(
    pay_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    invoice_id, customer_id = await _unpaid_invoice(
        pay_api, runtime, cards=("pm_card_visa", "pm_card_mastercard")
    )
    cards = await pay_api.gql(
        "query($c: ID!) { customer(id: $c) { paymentMethods { id last4 } } }",
        {"c": str(customer_id)},
    )
    mastercard = next(m["id"] for m in cards["customer"]["paymentMethods"] if m["last4"] == "4444")
    paid = (
        await pay_api.gql(
            PAY,
            {
                "input": {
                    "invoiceId": str(invoice_id),
                    "method": "STRIPE",
                    "paymentMethodId": mastercard,
                }
            },
        )
    )["payInvoice"]
    assert paid["errors"] == [] and stripe_fake.charges[-1]["payment_method"].startswith(
        "pm_card_mastercard"
    )


async def test_a_declined_card_leaves_the_invoice_unpaid_with_stripes_reason(
    pay_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime, cards=("pm_card_chargeDeclined",))
    declined = (
        await pay_api.gql(PAY, {"input": {"invoiceId": str(invoice_id), "method": "STRIPE"}})
    )["payInvoice"]
    assert declined["errors"][0] == {
        "code": "PAYMENT_DECLINED",
        "message": "Your card was declined. (generic_decline)",
    }
    # The declined intent is not left open at Stripe.
    (intent,) = stripe_fake.intents.values()
    assert intent["status"] == "canceled" and stripe_fake.cancelled == [intent["id"]]
    history = await pay_api.gql(
        "query($id: ID!) { invoice(id: $id) { status events { kind message } } }",
        {"id": str(invoice_id)},
    )
    assert history["invoice"]["status"] == "UNPAID"
    assert history["invoice"]["events"][-1] == {
        "kind": "PAYMENT_DECLINED",
        "message": "Your card was declined. (generic_decline)",
    }


async def test_a_card_needing_authentication_sends_the_customer_to_the_pay_page(
    pay_api: Api, runtime: Runtime
) -> None:
    invoice_id, _ = await _unpaid_invoice(
        pay_api, runtime, cards=("pm_card_authenticationRequired",)
    )
    refused = (
        await pay_api.gql(PAY, {"input": {"invoiceId": str(invoice_id), "method": "STRIPE"}})
    )["payInvoice"]
    assert refused["errors"][0]["code"] == "PAYMENT_DECLINED"
    assert f"pay at https://crm.example.test/i/{invoice_id}." in refused["errors"][0]["message"]


async def test_no_saved_card_answers_no_payment_method(pay_api: Api, runtime: Runtime) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime, cards=())
    refused = (
        await pay_api.gql(PAY, {"input": {"invoiceId": str(invoice_id), "method": "STRIPE"}})
    )["payInvoice"]
    assert (
        refused["errors"][0]["code"] == "NO_PAYMENT_METHOD"
        and "Payment Methods" in refused["errors"][0]["message"]
    )


async def test_a_5xx_after_charging_is_retried_with_the_same_key_and_charges_once(
    pay_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime)
    stripe_fake.fail_after_charge = 1  # Stripe charged, then its answer was lost
    paid = (await pay_api.gql(PAY, {"input": {"invoiceId": str(invoice_id), "method": "STRIPE"}}))[
        "payInvoice"
    ]
    assert paid["errors"] == [] and paid["invoice"]["status"] == "PAID"
    assert len(stripe_fake.charges) == 1


async def test_stripe_down_leaves_the_invoice_unchanged_and_a_retry_charges_once(
    pay_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime)
    stripe_fake.fail_after_charge = 3  # every retry of the client fails too
    failed = (
        await pay_api.gql(
            PAY,
            {
                "input": {
                    "invoiceId": str(invoice_id),
                    "method": "STRIPE",
                    "idempotencyKey": "pay-1",
                }
            },
        )
    )["payInvoice"]
    assert failed["errors"][0]["code"] == "PAYMENT_PROVIDER_ERROR"
    unchanged = await pay_api.gql(
        "query($id: ID!) { invoice(id: $id) { status } }", {"id": str(invoice_id)}
    )
    assert unchanged["invoice"]["status"] == "UNPAID"
    retried = (
        await pay_api.gql(
            PAY,
            {
                "input": {
                    "invoiceId": str(invoice_id),
                    "method": "STRIPE",
                    "idempotencyKey": "pay-1",
                }
            },
        )
    )["payInvoice"]
    assert retried["errors"] == [] and retried["invoice"]["status"] == "PAID"
    assert len(stripe_fake.charges) == 1


async def test_an_idempotency_key_belongs_to_whoever_sent_it(
    pay_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    mine, my_customer = await _unpaid_invoice(pay_api, runtime, "Mine Ltd")
    theirs, their_customer = await _unpaid_invoice(pay_api, runtime, "Theirs Ltd")
    me = await pay_api.customer_token(my_customer)
    them = await pay_api.customer_token(their_customer)

    def paying(invoice_id: int) -> dict:
        key = {"invoiceId": str(invoice_id), "method": "STRIPE", "idempotencyKey": "pay-1"}
        return {"input": key}

    paid = (await pay_api.gql(PAY, paying(mine), token=me))["payInvoice"]
    assert paid["errors"] == [] and paid["invoice"]["status"] == "PAID"
    # Their key and invoice id replayed as mine: nothing of theirs comes back, nothing is paid.
    replayed = (await pay_api.gql(PAY, paying(mine), token=them))["payInvoice"]
    assert replayed == {
        "invoice": None,
        "errors": [{"code": "NOT_FOUND", "message": replayed["errors"][0]["message"]}],
    }
    # The same key is theirs to use for their own invoice: no collision, no CONFLICT.
    own = (await pay_api.gql(PAY, paying(theirs), token=them))["payInvoice"]
    assert own["errors"] == [] and own["invoice"]["status"] == "PAID"
    assert len(stripe_fake.charges) == 2
    # A retry by the first customer still answers its own first result, charging nothing.
    again = (await pay_api.gql(PAY, paying(mine), token=me))["payInvoice"]
    assert again["errors"] == [] and again["invoice"]["id"] == str(mine)
    assert len(stripe_fake.charges) == 2


async def test_parallel_card_payments_of_one_invoice_charge_once(
    pay_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime)
    stripe_fake.charge_delay = 0.3  # so that the others arrive while the charge is open
    results = await asyncio.gather(
        *(
            pay_api.gql(PAY, {"input": {"invoiceId": str(invoice_id), "method": "STRIPE"}})
            for _ in range(32)
        )
    )
    outcomes = [
        r["payInvoice"]["errors"][0]["code"] if r["payInvoice"]["errors"] else "OK" for r in results
    ]
    # One pays; the others are refused at once: in progress while the charge is open,
    # already paid after it.
    assert outcomes.count("OK") == 1
    assert set(outcomes) - {"OK"} <= {"PAYMENT_IN_PROGRESS", "ALREADY_PAID"}
    assert "PAYMENT_IN_PROGRESS" in outcomes
    assert len(stripe_fake.charges) == 1
    await assert_consistent(pay_api.db)


async def test_a_stripe_payment_is_refunded_once(
    pay_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime)
    await pay_api.gql(PAY, {"input": {"invoiceId": str(invoice_id), "method": "STRIPE"}})
    refunded = (await pay_api.gql(REFUND, {"id": str(invoice_id)}))["refundInvoice"]
    assert refunded["errors"] == []
    assert (
        refunded["invoice"]["status"] == "REFUNDED"
        and refunded["invoice"]["refundReference"] == stripe_fake.refunds[0]["id"]
    )
    assert refunded["invoice"]["actions"] == ["DOWNLOAD_PDF", "SEND_EMAIL"]
    again = (await pay_api.gql(REFUND, {"id": str(invoice_id)}))["refundInvoice"]
    assert again["errors"][0]["code"] == "ALREADY_REFUNDED" and len(stripe_fake.refunds) == 1
    refunds = await pay_api.gql(
        '{ transactions(filter: {search: "Refund of"}) { items { kind retailCost invoice { id } } } }'
    )
    assert refunds["transactions"]["items"] == [
        {"kind": "REFUND", "retailCost": "110.00", "invoice": {"id": str(invoice_id)}}
    ]


async def test_a_keyed_refund_retried_answers_the_first_refund(
    pay_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime)
    await pay_api.gql(PAY, {"input": {"invoiceId": str(invoice_id), "method": "STRIPE"}})
    keyed = "mutation($id: ID!, $k: String) { refundInvoice(id: $id, idempotencyKey: $k) { invoice { status refundReference } errors { code } } }"
    first = (await pay_api.gql(keyed, {"id": str(invoice_id), "k": "refund-1"}))["refundInvoice"]
    retried = (await pay_api.gql(keyed, {"id": str(invoice_id), "k": "refund-1"}))["refundInvoice"]
    assert first["errors"] == [] and retried == first
    assert first["invoice"]["status"] == "REFUNDED" and len(stripe_fake.refunds) == 1


async def test_refunds_are_only_for_paid_card_payments(pay_api: Api, runtime: Runtime) -> None:
    cash_invoice, customer_id = await _unpaid_invoice(pay_api, runtime)
    unpaid = (await pay_api.gql(REFUND, {"id": str(cash_invoice)}))["refundInvoice"]
    assert unpaid["errors"][0]["code"] == "NOT_PAID"
    await pay_api.gql(PAY, {"input": {"invoiceId": str(cash_invoice), "method": "CASH"}})
    before = await snapshot(pay_api.db)
    cash = (await pay_api.gql(REFUND, {"id": str(cash_invoice)}))["refundInvoice"]
    assert cash["errors"][0]["code"] == "NOT_REFUNDABLE" and "CASH" in cash["errors"][0]["message"]
    assert await snapshot(pay_api.db) == before
    portal = (
        await pay_api.gql(
            REFUND, {"id": str(cash_invoice)}, token=await pay_api.customer_token(customer_id)
        )
    )["refundInvoice"]
    assert portal["errors"][0]["code"] == "FORBIDDEN"


async def test_self_care_pays_only_its_own_invoices_and_only_by_card(
    pay_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    mine, my_customer = await _unpaid_invoice(pay_api, runtime)
    theirs, their_customer = await _unpaid_invoice(pay_api, runtime, "Globex")
    token = await pay_api.customer_token(my_customer)
    cash = (
        await pay_api.gql(PAY, {"input": {"invoiceId": str(mine), "method": "CASH"}}, token=token)
    )["payInvoice"]
    assert cash["errors"][0]["code"] == "FORBIDDEN"
    other = (
        await pay_api.gql(
            PAY, {"input": {"invoiceId": str(theirs), "method": "STRIPE"}}, token=token
        )
    )["payInvoice"]
    assert other["errors"][0]["code"] == "NOT_FOUND"
    missing = (
        await pay_api.gql(
            PAY.replace("errors { code message }", "errors { code field }"),
            {"input": {"invoiceId": "999999", "method": "CASH"}},
        )
    )["payInvoice"]
    assert missing["errors"] == [{"code": "NOT_FOUND", "field": "invoiceId"}]  # the input's name
    other_card = (
        await pay_api.gql(
            ATTACH, {"c": str(their_customer), "pm": "pm_card_visa", "d": False}, token=token
        )
    )["attachPaymentMethod"]
    assert other_card["errors"][0]["code"] == "NOT_FOUND"
    own_card = (
        await pay_api.gql(
            ATTACH,
            {"c": str(my_customer), "pm": f"pm_card_mastercard_{my_customer}", "d": True},
            token=token,
        )
    )["attachPaymentMethod"]
    assert own_card["errors"] == []
    paid = (
        await pay_api.gql(PAY, {"input": {"invoiceId": str(mine), "method": "STRIPE"}}, token=token)
    )["payInvoice"]
    assert paid["errors"] == [] and paid["invoice"]["actions"] == ["DOWNLOAD_PDF", "SEND_EMAIL"]
    assert paid["invoice"]["events"][-1]["actor"] == "you"  # never the token's name
    assert stripe_fake.charges[-1]["payment_method"] == f"pm_card_mastercard_{my_customer}"


async def _webhook(api: Api, event: dict, secret: str = WEBHOOK_SECRET) -> httpx.Response:
    body, signature = signed(event, secret)
    return await api.client.post(
        "/webhooks/stripe",
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


async def test_webhooks_need_a_valid_signature_dated_now(pay_api: Api, runtime: Runtime) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime)
    event = _paid_at_stripe("evt_forged", "pi_x", invoice_id, 11000)
    before = await snapshot(pay_api.db)
    forged = await _webhook(pay_api, event, secret="whsec_wrong")
    unsigned = await pay_api.client.post("/webhooks/stripe", json=event)
    body, signature = signed(event, WEBHOOK_SECRET, timestamp=int(time.time()) + 3600)
    future = await pay_api.client.post(
        "/webhooks/stripe", content=body, headers={"Stripe-Signature": signature}
    )
    body, signature = signed(event, WEBHOOK_SECRET, timestamp=int(time.time()) - 3600)
    stale = await pay_api.client.post(
        "/webhooks/stripe", content=body, headers={"Stripe-Signature": signature}
    )
    assert forged.status_code == unsigned.status_code == future.status_code == 400
    assert stale.status_code == 400
    assert await snapshot(pay_api.db) == before


@pytest.mark.parametrize(
    "body",
    [
        {"id": "evt_m1", "type": "payment_intent.succeeded", "data": {"object": "pi_1"}},
        {"id": "evt_m2", "type": "payment_intent.succeeded", "data": []},
        {"id": "evt_m3", "type": "payment_intent.succeeded"},
        {"id": 7, "type": "charge.refunded", "data": {"object": {}}},
        {
            "id": "evt_m4",
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": "pi_1", "metadata": "invoice 1", "amount_received": 1}},
        },
        {
            "id": "evt_m5",
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": "pi_1", "amount_received": "11000"}},
        },
        {
            "id": "evt_m6",
            "type": "charge.refunded",
            "data": {"object": {"id": "ch_1", "refunds": {"data": [{"metadata": {}}]}}},
        },
        ["not", "an", "event"],
        "evt",
    ],
)
async def test_a_signed_body_that_is_not_an_event_we_understand_gets_400(
    pay_api: Api, runtime: Runtime, body: object
) -> None:
    await _unpaid_invoice(pay_api, runtime)
    before = await snapshot(pay_api.db)
    content, signature = signed(body, WEBHOOK_SECRET)
    response = await pay_api.client.post(
        "/webhooks/stripe", content=content, headers={"Stripe-Signature": signature}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("not an event we understand")
    assert await snapshot(pay_api.db) == before


def _paid_at_stripe(
    event_id: str,
    intent_id: str,
    invoice_id: int,
    amount: int,
    currency: str = "usd",
    status: str = "succeeded",
    customer: str | None = None,
) -> dict:
    intent = {
        "id": intent_id,
        "object": "payment_intent",
        "status": status,
        "amount": amount,
        "amount_received": amount if status == "succeeded" else 0,
        "currency": currency,
        "metadata": {"invoice_id": str(invoice_id)},
    }
    if customer:
        intent["customer"] = customer
    return {"id": event_id, "type": "payment_intent.succeeded", "data": {"object": intent}}


INVOICE_STATE = "query($id: ID!) { invoice(id: $id) { status paymentReference refundedAmount events { kind actor message } } }"


async def test_a_payment_made_on_the_pay_page_arrives_by_webhook_once(
    pay_api: Api, runtime: Runtime
) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime, cards=())
    event = _paid_at_stripe("evt_1", "pi_paypage", invoice_id, 11000)
    first = await _webhook(pay_api, event)
    replay = await _webhook(pay_api, event)
    assert first.status_code == replay.status_code == 200
    assert (first.json()["outcome"], replay.json()["outcome"]) == (
        "invoice paid",
        "already handled",
    )
    invoice = (await pay_api.gql(INVOICE_STATE, {"id": str(invoice_id)}))["invoice"]
    assert (invoice["status"], invoice["paymentReference"]) == ("PAID", "pi_paypage")
    assert [e["kind"] for e in invoice["events"]] == [
        "GENERATED",
        "WEBHOOK",
        "PAYMENT_SUCCEEDED",
        "PAID",
    ]
    assert {e["actor"] for e in invoice["events"][1:]} == {"stripe"}


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"amount": 1}, "1 paid in minor units, 11000 was asked"),
        ({"currency": "eur"}, "paid in EUR, the invoice is in USD"),
        ({"status": "processing"}, "the payment did not succeed"),
        ({"customer": "cus_someone_else"}, "paid by cus_someone_else"),
    ],
)
async def test_a_webhook_that_does_not_match_the_invoice_changes_nothing_and_asks_for_review(
    pay_api: Api, runtime: Runtime, change: dict, why: str
) -> None:
    invoice_id, customer_id = await _unpaid_invoice(pay_api, runtime)
    arguments = {"amount": 11000, **change}
    event = _paid_at_stripe("evt_odd", "pi_odd", invoice_id, **arguments)
    before = await pay_api.client.get("/metrics")
    assert (await _webhook(pay_api, event)).json()["outcome"] == "needs review"
    invoice = (await pay_api.gql(INVOICE_STATE, {"id": str(invoice_id)}))["invoice"]
    assert invoice["status"] == "UNPAID" and invoice["paymentReference"] is None
    review = invoice["events"][-1]
    assert review["kind"] == "NEEDS_REVIEW" and why in review["message"]
    after = await pay_api.client.get("/metrics")
    metric = 'invoicing_payments_needing_review_total{source="stripe"}'
    count = lambda text: float(  # noqa: E731
        next((line.split()[-1] for line in text.splitlines() if line.startswith(metric)), "0")
    )
    assert count(after.text) == count(before.text) + 1
    await assert_consistent(pay_api.db)


def _refunded_at_stripe(event_id: str, intent: str, refunded: int, refund_id: str) -> dict:
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": intent,
        "currency": "usd",
        "amount": 11000,
        "amount_refunded": refunded,
        "refunded": refunded == 11000,
        "refunds": {"data": [{"id": refund_id}]},
    }
    return {"id": event_id, "type": "charge.refunded", "data": {"object": charge}}


async def test_refunds_made_in_stripes_dashboard_are_recorded_for_their_real_amount(
    pay_api: Api, runtime: Runtime
) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime)
    paid = (await pay_api.gql(PAY, {"input": {"invoiceId": str(invoice_id), "method": "STRIPE"}}))[
        "payInvoice"
    ]
    intent = paid["invoice"]["paymentReference"]
    partial = await _webhook(pay_api, _refunded_at_stripe("evt_r1", intent, 100, "re_part"))
    assert partial.json()["outcome"] == "partial refund recorded"
    invoice = (await pay_api.gql(INVOICE_STATE, {"id": str(invoice_id)}))["invoice"]
    assert (invoice["status"], invoice["refundedAmount"]) == ("PAID", "1.00")
    await assert_consistent(pay_api.db)
    # The same cumulative amount again (another event about the same refund) adds nothing.
    again = await _webhook(pay_api, _refunded_at_stripe("evt_r1b", intent, 100, "re_part"))
    assert again.json()["outcome"] == "refund already recorded"
    whole = await _webhook(pay_api, _refunded_at_stripe("evt_r2", intent, 11000, "re_rest"))
    assert whole.json()["outcome"] == "invoice refunded"
    invoice = (await pay_api.gql(INVOICE_STATE, {"id": str(invoice_id)}))["invoice"]
    assert (invoice["status"], invoice["refundedAmount"]) == ("REFUNDED", "110.00")
    refunds = await pay_api.gql(
        '{ transactions(filter: {search: "Refund of"}) { items { kind retailCost } } }'
    )
    assert sorted(i["retailCost"] for i in refunds["transactions"]["items"]) == ["1.00", "109.00"]
    await assert_consistent(pay_api.db)
    failed = {
        "id": "evt_fail",
        "type": "payment_intent.payment_failed",
        "data": {
            "object": {
                "id": "pi_f",
                "metadata": {"invoice_id": str(invoice_id)},
                "last_payment_error": {"message": "Insufficient funds."},
            }
        },
    }
    assert (await _webhook(pay_api, failed)).json()["outcome"] == "failure recorded"


async def test_the_app_refunds_the_rest_after_a_partial_dashboard_refund(
    pay_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime)
    paid = (await pay_api.gql(PAY, {"input": {"invoiceId": str(invoice_id), "method": "STRIPE"}}))[
        "payInvoice"
    ]
    intent = paid["invoice"]["paymentReference"]
    stripe_fake.refunds.append(  # made in the dashboard
        {"id": "re_dash", "amount": 1000, "payment_intent": intent, "metadata": {}, "created": 0}
    )
    await _webhook(pay_api, _refunded_at_stripe("evt_r", intent, 1000, "re_dash"))
    refunded = (await pay_api.gql(REFUND, {"id": str(invoice_id)}))["refundInvoice"]
    assert refunded["errors"] == [] and refunded["invoice"]["status"] == "REFUNDED"
    assert [r["amount"] for r in stripe_fake.refunds] == [1000, 10000]
    # Stripe's own event about the app's refund finds it recorded already.
    late = await _webhook(
        pay_api,
        _refunded_at_stripe("evt_r2", intent, 11000, refunded["invoice"]["refundReference"]),
    )
    assert late.json()["outcome"] == "refund already recorded"
    await assert_consistent(pay_api.db)


async def test_a_slow_stripe_holds_no_database_lock_while_it_answers(
    pay_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime)
    stripe_fake.charge_delay = 10
    paying = asyncio.create_task(
        pay_api.gql(PAY, {"input": {"invoiceId": str(invoice_id), "method": "STRIPE"}})
    )
    assert await asyncio.to_thread(stripe_fake.charge_arrived.wait, 10)
    # While Stripe thinks, the invoice shows the payment pending, and other writes go on.
    pending = await pay_api.gql(
        "query($id: ID!) { invoice(id: $id) { status paymentPending actions } }",
        {"id": str(invoice_id)},
    )
    assert pending["invoice"] == {
        "status": "UNPAID",
        "paymentPending": True,
        "actions": ["DOWNLOAD_PDF", "SEND_EMAIL"],
    }
    # Stripe answers in 10 s: a write that waited for a lock the payment held would still be
    # waiting after 5 (the bound guards against a hang; what is asserted is the order).
    made = await asyncio.wait_for(
        pay_api.gql('mutation { createCustomer(input: {name: "Meanwhile"}) { errors { code } } }'),
        5,
    )
    assert made["createCustomer"]["errors"] == [] and not paying.done()
    second = await pay_api.gql(PAY, {"input": {"invoiceId": str(invoice_id), "method": "CASH"}})
    assert [e["code"] for e in second["payInvoice"]["errors"]] == ["PAYMENT_IN_PROGRESS"]
    paid = (await paying)["payInvoice"]
    assert paid["errors"] == [] and paid["invoice"]["status"] == "PAID"
    assert len(stripe_fake.charges) == 1
    await assert_consistent(pay_api.db)


async def test_stripes_permanent_refusals_say_so_and_charge_nothing(
    pay_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime)
    paying = {"input": {"invoiceId": str(invoice_id), "method": "STRIPE"}}
    stripe_fake.refuse_next = (401, "authentication_error", "Invalid API Key provided: sk_test_***")
    rejected = (await pay_api.gql(PAY, paying))["payInvoice"]
    assert rejected["errors"][0]["code"] == "PAYMENT_REJECTED"
    assert "try again" not in rejected["errors"][0]["message"].lower()
    stripe_fake.rate_limit_next = 3  # lock_timeout, through every retry of the client
    busy = (await pay_api.gql(PAY, paying))["payInvoice"]
    assert busy["errors"][0]["code"] == "PAYMENT_PROVIDER_ERROR"
    assert "try again" in busy["errors"][0]["message"].lower()
    assert stripe_fake.charges == []


async def test_a_processing_payment_stays_pending_until_stripe_says_it_succeeded(
    pay_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime, cards=("pm_card_processing",))
    answer = (
        await pay_api.gql(PAY, {"input": {"invoiceId": str(invoice_id), "method": "STRIPE"}})
    )["payInvoice"]
    assert answer["errors"] == [] and answer["invoice"]["status"] == "UNPAID"
    state = "query($id: ID!) { invoice(id: $id) { status paymentPending events { kind } } }"
    pending = (await pay_api.gql(state, {"id": str(invoice_id)}))["invoice"]
    assert pending["paymentPending"] is True and pending["events"][-1]["kind"] == "PAYMENT_PENDING"
    (intent,) = stripe_fake.intents.values()
    succeeded = stripe_fake.succeed(intent["id"])
    event = {"id": "evt_ok", "type": "payment_intent.succeeded", "data": {"object": succeeded}}
    assert (await _webhook(pay_api, event)).json()["outcome"] == "invoice paid"
    paid = (await pay_api.gql(state, {"id": str(invoice_id)}))["invoice"]
    assert (paid["status"], paid["paymentPending"]) == ("PAID", False)
    assert len(stripe_fake.charges) == 1
    await assert_consistent(pay_api.db)


async def test_idempotency_keys_carry_the_deployments_prefix(
    pay_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime)
    await pay_api.gql(PAY, {"input": {"invoiceId": str(invoice_id), "method": "STRIPE"}})
    (charge,) = stripe_fake.charges
    async with pay_api.db.read() as session:
        prefix = (await session.execute(select(Deployment.key_prefix))).scalar_one()
    assert charge["metadata"]["attempt"].startswith(f"{prefix}-charge-")
    assert any(key.startswith(f"{prefix}-customer-") for key in stripe_fake.keys)


async def test_a_card_saved_again_after_a_failure_makes_no_second_stripe_customer(
    pay_api: Api, stripe_fake: FakeStripe
) -> None:
    customer = await make_customer(pay_api.db, "Retry Pty Ltd")
    # The customer is made at Stripe, then attaching the card fails.
    stripe_fake.refuse_path = ("/attach", 401, "authentication_error", "Expired API key")
    first = (await pay_api.gql(ATTACH, {"c": str(customer.id), "pm": "pm_card_visa", "d": False}))[
        "attachPaymentMethod"
    ]
    assert first["errors"][0]["code"] == "PAYMENT_PROVIDER_ERROR"
    second = (await pay_api.gql(ATTACH, {"c": str(customer.id), "pm": "pm_card_visa", "d": False}))[
        "attachPaymentMethod"
    ]
    assert second["errors"] == [] and len(second["customer"]["paymentMethods"]) == 1
    assert len(stripe_fake.customers) == 1


async def test_a_webhook_naming_an_id_too_large_for_any_table_is_no_server_error(
    pay_api: Api, runtime: Runtime
) -> None:
    before = await snapshot(pay_api.db)
    event = _paid_at_stripe("evt_huge", "pi_huge", 0, 11000)
    event["data"]["object"]["metadata"]["invoice_id"] = "999999999999999999999999"
    answer = await _webhook(pay_api, event)
    assert answer.status_code == 200
    after = await snapshot(pay_api.db)
    # Nothing settled: only the event itself is remembered, so a redelivery is ignored.
    assert {k: v for k, v in after.items() if k != "processed_webhook_events"} == {
        k: v for k, v in before.items() if k != "processed_webhook_events"
    }


async def test_a_retry_after_stripe_failed_before_charging_charges_under_the_same_key(
    pay_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime)
    stripe_fake.fail_next = 3  # Stripe answered 500 to the call and both of its retries
    pay = {"input": {"invoiceId": str(invoice_id), "method": "STRIPE", "idempotencyKey": "k-1"}}
    failed = (await pay_api.gql(PAY, pay))["payInvoice"]
    assert failed["errors"][0]["code"] == "PAYMENT_PROVIDER_ERROR"
    assert stripe_fake.charges == []
    # The same request again: the charge is sent again under the attempt's own Stripe key,
    # so Stripe performs it once (or answers what it did), and the client is told.
    retried = (await pay_api.gql(PAY, pay))["payInvoice"]
    assert retried["errors"] == [] and retried["invoice"]["status"] == "PAID"
    assert len(stripe_fake.charges) == 1
    again = (await pay_api.gql(PAY, pay))["payInvoice"]
    assert again["errors"] == [] and again["invoice"]["status"] == "PAID"
    assert len(stripe_fake.charges) == 1
    assert len({key for key in stripe_fake.keys if "-charge-" in key}) == 1
    await assert_consistent(pay_api.db)


async def test_the_reconciler_settles_at_once_what_stripe_already_confirms(
    pay_api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime)
    stripe_fake.fail_after_charge = 3  # charged, and every answer lost
    pay = {"input": {"invoiceId": str(invoice_id), "method": "STRIPE"}}
    assert (await pay_api.gql(PAY, pay))["payInvoice"]["errors"][0]["code"] == (
        "PAYMENT_PROVIDER_ERROR"
    )
    # Right away, not unknown_after_seconds later: Stripe shows the charge succeeded.
    report = await reconcile_payments(
        pay_api.db, runtime.settings, runtime.metrics, StripeGateway(_stripe_settings(stripe_fake))
    )
    assert report.outcomes == {"invoice paid": 1}
    found = await pay_api.gql(
        "query($id: ID!) { invoice(id: $id) { status } }", {"id": str(invoice_id)}
    )
    assert found["invoice"]["status"] == "PAID" and len(stripe_fake.charges) == 1


def _stripe_settings(fake: FakeStripe) -> StripeSettings:
    return StripeSettings(secret_key="sk_test_fake", api_base=fake.url)
