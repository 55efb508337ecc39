"""Card payments, refunds and webhooks through the API, with the real stripe-python client
talking to a local fake Stripe."""

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime

import httpx
import pytest

from domain.adapters.stripe_gateway import StripeGateway
from domain.bootstrap import Runtime
from domain.config import settings_from_mapping
from domain.model.access import SYSTEM
from domain.model.commands import GenerateRequest
from domain.services import billing
from graph.app import build_app
from tests.conftest import TEMPLATES
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


@pytest.fixture(scope="module")
def stripe_fake() -> Iterator[FakeStripe]:
    fake = FakeStripe()
    yield fake
    fake.close()


@pytest.fixture
async def pay_api(api: Api, runtime: Runtime, stripe_fake: FakeStripe) -> AsyncIterator[Api]:
    stripe_fake.reset()
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
                "api_base": stripe_fake.url,
                "webhook_secret": WEBHOOK_SECRET,
            },
        }
    )
    configured = dataclasses.replace(
        runtime, settings=settings, cards=StripeGateway(settings.stripe)
    )
    transport = httpx.ASGITransport(app=build_app(settings, runtime=configured))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        ready = Api(client, api.db)
        ready._staff = await api.staff_token()
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
    pay_api: Api, runtime: Runtime
) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime, cards=("pm_card_chargeDeclined",))
    declined = (
        await pay_api.gql(PAY, {"input": {"invoiceId": str(invoice_id), "method": "STRIPE"}})
    )["payInvoice"]
    assert declined["errors"][0] == {
        "code": "PAYMENT_DECLINED",
        "message": "Your card was declined.",
    }
    history = await pay_api.gql(
        "query($id: ID!) { invoice(id: $id) { status events { kind message } } }",
        {"id": str(invoice_id)},
    )
    assert history["invoice"]["status"] == "UNPAID"
    assert history["invoice"]["events"][-1] == {
        "kind": "PAYMENT_DECLINED",
        "message": "Your card was declined.",
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
    assert (
        f"https://portal.example.com/invoices/{invoice_id}/pay" in refused["errors"][0]["message"]
    )


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
    results = await asyncio.gather(
        *(
            pay_api.gql(PAY, {"input": {"invoiceId": str(invoice_id), "method": "STRIPE"}})
            for _ in range(5)
        )
    )
    outcomes = sorted(
        r["payInvoice"]["errors"][0]["code"] if r["payInvoice"]["errors"] else "OK" for r in results
    )
    assert outcomes == ["ALREADY_PAID"] * 4 + ["OK"]
    assert len(stripe_fake.charges) == 1


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
    assert paid["invoice"]["events"][-1]["actor"] == f"portal {my_customer}"
    assert stripe_fake.charges[-1]["payment_method"] == f"pm_card_mastercard_{my_customer}"


async def _webhook(api: Api, event: dict, secret: str = WEBHOOK_SECRET) -> httpx.Response:
    body, signature = signed(event, secret)
    return await api.client.post(
        "/webhooks/stripe",
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


async def test_webhooks_need_a_valid_signature(pay_api: Api, runtime: Runtime) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime)
    event = {
        "id": "evt_forged",
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": "pi_x", "metadata": {"invoice_id": str(invoice_id)}}},
    }
    before = await snapshot(pay_api.db)
    forged = await _webhook(pay_api, event, secret="whsec_wrong")
    unsigned = await pay_api.client.post("/webhooks/stripe", json=event)
    assert forged.status_code == unsigned.status_code == 400
    assert await snapshot(pay_api.db) == before


async def test_a_payment_made_on_the_pay_page_arrives_by_webhook_once(
    pay_api: Api, runtime: Runtime
) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime, cards=())
    event = {
        "id": "evt_1",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": "pi_paypage",
                "object": "payment_intent",
                "metadata": {"invoice_id": str(invoice_id)},
            }
        },
    }
    first = await _webhook(pay_api, event)
    replay = await _webhook(pay_api, event)
    assert first.status_code == replay.status_code == 200
    assert (first.json()["outcome"], replay.json()["outcome"]) == (
        "invoice paid",
        "already handled",
    )
    invoice = await pay_api.gql(
        "query($id: ID!) { invoice(id: $id) { status paymentMethod paymentReference events { kind actor } } }",
        {"id": str(invoice_id)},
    )
    assert (invoice["invoice"]["status"], invoice["invoice"]["paymentReference"]) == (
        "PAID",
        "pi_paypage",
    )
    assert [e["kind"] for e in invoice["invoice"]["events"]] == [
        "GENERATED",
        "WEBHOOK",
        "PAYMENT_SUCCEEDED",
        "PAID",
    ]
    assert {e["actor"] for e in invoice["invoice"]["events"][1:]} == {"stripe"}


async def test_a_refund_made_in_stripes_dashboard_arrives_by_webhook(
    pay_api: Api, runtime: Runtime
) -> None:
    invoice_id, _ = await _unpaid_invoice(pay_api, runtime)
    paid = (await pay_api.gql(PAY, {"input": {"invoiceId": str(invoice_id), "method": "STRIPE"}}))[
        "payInvoice"
    ]
    intent = paid["invoice"]["paymentReference"]
    event = {
        "id": "evt_refund",
        "type": "charge.refunded",
        "data": {
            "object": {
                "id": "ch_1",
                "object": "charge",
                "payment_intent": intent,
                "refunds": {"data": [{"id": "re_dash"}]},
            }
        },
    }
    assert (await _webhook(pay_api, event)).json()["outcome"] == "invoice refunded"
    invoice = await pay_api.gql(
        "query($id: ID!) { invoice(id: $id) { status refundReference } }", {"id": str(invoice_id)}
    )
    assert invoice["invoice"] == {"status": "REFUNDED", "refundReference": "re_dash"}
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
