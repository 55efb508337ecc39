"""Outbound webhooks through the API, as an integrator sees them: endpoints managed over
GraphQL, signed JSON deliveries arriving at a real HTTP receiver, retries with backoff,
redelivery, rotation, the address guard, and no delivery sent twice by two dispatchers.

Dispatch rounds are run here by calling the dispatcher the workers run, with the clock
pinned, so retry times are checked exactly; the worker processes themselves are tested in
tests/e2e/test_webhook_workers.py."""

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.bootstrap import Runtime, open_webhook_sender
from domain.errors import DomainError, ErrorCode
from domain.model import webhooks as rules
from domain.model.access import SYSTEM
from domain.model.entities import WebhookDelivery
from domain.model.enums import WebhookDeliveryStatus, WebhookEventType
from domain.ops.check import check_database
from domain.services import webhooks
from domain.services.webhook_dispatch import dispatch, fan_out
from domain.store import webhooks as webhook_store
from tests.consistency import UTC as UTC_ZONE
from tests.consistency import assert_consistent
from tests.fakes.clock import PinnableClock
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.helpers import Api, make_charge, make_customer, snapshot

CREATE = """
mutation($url: String!, $events: [WebhookEventType!]!) {
  createWebhookEndpoint(input: {url: $url, events: $events, description: "ERP"}) {
    endpoint { id url events enabled description }
    secret
    errors { code message field }
  }
}"""

DELIVERIES = """
query($e: ID!) {
  webhookDeliveries(endpointId: $e, perPage: 50) {
    totalCount
    items { id eventId sequence eventType invoiceId status attempts lastStatusCode lastError
            nextAttemptAt redeliveryOf body }
  }
}"""

GENERATE = "mutation($c: ID!) { generateInvoice(input: {customerId: $c}) { invoice { id } errors { code } } }"
PAY = "mutation($i: ID!) { payInvoice(input: {invoiceId: $i, method: CASH}) { errors { code } } }"
VOID = "mutation($i: ID!) { voidInvoice(id: $i) { errors { code } } }"

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    fake = WebhookReceiver()
    yield fake
    fake.close()


@pytest.fixture
def hooks(receiver: WebhookReceiver) -> WebhookReceiver:
    receiver.received.clear()
    receiver.answer_with([])
    receiver.hang_seconds = 0
    receiver.arrived = 0
    return receiver


async def _endpoint(api: Api, url: str, events: list[str]) -> tuple[str, str]:
    made = (await api.gql(CREATE, {"url": url, "events": events}))["createWebhookEndpoint"]
    assert made["errors"] == []
    return made["endpoint"]["id"], made["secret"]


async def _invoice(api: Api, name: str = "Acme") -> str:
    customer = await make_customer(api.db, name)
    await make_charge(api.db, customer.id, "10.00")
    made = await api.gql(GENERATE, {"c": str(customer.id)})
    return made["generateInvoice"]["invoice"]["id"]


async def _deliveries(api: Api, endpoint: str) -> list[dict[str, Any]]:
    return (await api.gql(DELIVERIES, {"e": endpoint}))["webhookDeliveries"]["items"]


def _tries(runtime: Runtime, outcome: str) -> float:
    """invoicing_webhook_deliveries_total for invoice.generated and `outcome`, as /metrics says."""
    text = runtime.metrics.exposition()[0].decode()
    wanted = (
        f'invoicing_webhook_deliveries_total{{event_type="invoice.generated",outcome="{outcome}"}} '
    )
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(wanted))


def _verified(received: Any, secret: str) -> dict[str, Any]:
    header = received.headers["Invoicing-Signature"]
    assert rules.verify(
        secret, header, received.body, now=int(time.time()), tolerance_seconds=10**9
    )
    return received.json()


async def test_an_endpoint_receives_the_events_it_chose_signed_with_its_secret(
    api: Api, runtime: Runtime, hooks: WebhookReceiver
) -> None:
    endpoint, secret = await _endpoint(api, hooks.url, ["INVOICE_GENERATED", "INVOICE_PAID"])
    assert secret.startswith("whsec_") and len(secret) > 40
    listed = await api.gql("{ webhookEndpoints { id url events enabled } }")
    assert listed["webhookEndpoints"] == [
        {
            "id": endpoint,
            "url": hooks.url,
            "events": ["INVOICE_GENERATED", "INVOICE_PAID"],
            "enabled": True,
        }
    ]

    invoice = await _invoice(api)
    await api.gql(PAY, {"i": invoice})
    other = await _invoice(api, "Globex")
    await api.gql(VOID, {"i": other})  # not subscribed: never sent
    report = await dispatch(runtime.db, runtime.settings, runtime.webhooks, runtime.metrics)
    assert report.outcomes == {"succeeded": 3}

    # Sent side by side, so they may arrive in any order: the sequence orders them.
    received = sorted(hooks.received, key=lambda r: r.json()["sequence"])
    bodies = [_verified(r, secret) for r in received]
    assert [(b["type"], b["data"]["invoice"]["id"]) for b in bodies] == [
        ("invoice.generated", invoice),
        ("invoice.paid", invoice),
        ("invoice.generated", other),
    ]
    paid = bodies[1]
    assert paid["id"] == f"evt_{paid['sequence']}"
    assert bodies[0]["sequence"] < paid["sequence"] < bodies[2]["sequence"]
    assert paid["data"]["invoice"]["status"] == "PAID"
    assert paid["data"]["invoice"]["total"] == "10.00"
    assert paid["created"].endswith("Z")
    assert received[1].headers["Invoicing-Event-Id"] == paid["id"]
    assert received[1].headers["Content-Type"] == "application/json"
    # A signature made with any other secret, or over another body, does not verify.
    header = received[1].headers["Invoicing-Signature"]
    assert not rules.verify("whsec_other", header, received[1].body, now=int(time.time()))
    assert not rules.verify(secret, header, received[1].body + b" ", now=int(time.time()))

    log = await _deliveries(api, endpoint)
    assert [(d["eventType"], d["status"], d["attempts"], d["lastStatusCode"]) for d in log] == [
        ("INVOICE_GENERATED", "SUCCEEDED", 1, 200),
        ("INVOICE_PAID", "SUCCEEDED", 1, 200),
        ("INVOICE_GENERATED", "SUCCEEDED", 1, 200),
    ][::-1]
    assert json.loads(log[1]["body"]) == paid
    # Nothing more to send: a second round sends nothing.
    assert (
        await dispatch(runtime.db, runtime.settings, runtime.webhooks, runtime.metrics)
    ).sent == 0
    await assert_consistent(runtime.db)


async def test_a_delivery_answered_500_is_tried_again_with_growing_waits_until_it_succeeds(
    api: Api, runtime: Runtime, hooks: WebhookReceiver, clock: PinnableClock
) -> None:
    clock.pin(NOW)
    endpoint, secret = await _endpoint(api, hooks.url, ["INVOICE_GENERATED"])
    await _invoice(api)
    hooks.answer_with([500, 503])
    db, settings, sender = runtime.db, runtime.settings, runtime.webhooks
    retried, succeeded = _tries(runtime, "pending"), _tries(runtime, "succeeded")

    assert (await dispatch(db, settings, sender, runtime.metrics)).outcomes == {"pending": 1}
    [first] = await _deliveries(api, endpoint)
    assert (first["status"], first["attempts"], first["lastStatusCode"]) == ("PENDING", 1, 500)
    assert first["lastError"] == "answered 500"
    assert first["nextAttemptAt"] == "2026-03-02T09:00:30.000Z"  # retry_base_seconds

    clock.pin(NOW + timedelta(seconds=29))
    assert (await dispatch(db, settings, sender, runtime.metrics)).sent == 0  # not yet due
    clock.pin(NOW + timedelta(seconds=30))
    assert (await dispatch(db, settings, sender, runtime.metrics)).outcomes == {"pending": 1}
    [second] = await _deliveries(api, endpoint)
    assert (second["attempts"], second["lastStatusCode"]) == (2, 503)
    assert second["nextAttemptAt"] == "2026-03-02T09:01:30.000Z"  # twice as long

    clock.pin(NOW + timedelta(seconds=90))
    assert (await dispatch(db, settings, sender, runtime.metrics)).outcomes == {"succeeded": 1}
    [done] = await _deliveries(api, endpoint)
    assert (done["status"], done["attempts"], done["lastStatusCode"]) == ("SUCCEEDED", 3, 200)
    assert done["nextAttemptAt"] is None
    assert _tries(runtime, "pending") == retried + 2  # operators see the retries
    assert _tries(runtime, "succeeded") == succeeded + 1
    # Each try carried the same event, freshly signed.
    assert [r.status for r in hooks.received] == [500, 503, 200]
    assert len({r.body for r in hooks.received}) == 1
    stamps = [r.headers["Invoicing-Signature"].split(",")[0] for r in hooks.received]
    assert stamps == [f"t={int((NOW + timedelta(seconds=s)).timestamp())}" for s in (0, 30, 90)]
    for received in hooks.received:
        assert rules.verify(
            secret,
            received.headers["Invoicing-Signature"],
            received.body,
            now=int((NOW + timedelta(seconds=90)).timestamp()),
        )


async def test_a_delivery_still_failing_after_three_days_is_given_up(
    api: Api, runtime: Runtime, hooks: WebhookReceiver, clock: PinnableClock
) -> None:
    clock.pin(NOW)
    endpoint, _ = await _endpoint(api, hooks.url, ["INVOICE_GENERATED"])
    await _invoice(api)
    hooks.answer_with([500] * 100)
    moments = []
    while True:
        await dispatch(runtime.db, runtime.settings, runtime.webhooks, runtime.metrics)
        [delivery] = await _deliveries(api, endpoint)
        if delivery["status"] != "PENDING":
            break
        moments.append(datetime.fromisoformat(delivery["nextAttemptAt"]))
        clock.pin(moments[-1])
    assert delivery["status"] == "FAILED"
    assert delivery["attempts"] == len(moments) + 1 == len(hooks.received)
    waits = [b - a for a, b in zip([NOW, *moments], moments, strict=False)]
    assert waits[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert max(waits) == timedelta(hours=6)  # retry_max_interval_seconds
    assert timedelta(hours=66) < moments[-1] - NOW <= timedelta(hours=72)


async def test_a_sender_that_died_mid_send_is_taken_over_once_its_lease_ends(
    api: Api, runtime: Runtime, hooks: WebhookReceiver, clock: PinnableClock
) -> None:
    clock.pin(NOW)
    endpoint, _ = await _endpoint(api, hooks.url, ["INVOICE_GENERATED"])
    await _invoice(api)
    db = runtime.db
    assert await fan_out(db) == 1  # the delivery is made, not sent
    # A worker claims it, then dies before it can settle: the delivery stays SENDING.
    lease_end = NOW + timedelta(seconds=40)
    [claimed] = await webhook_store.claim_due(db, NOW, lease_end, 10)
    assert (await dispatch(db, runtime.settings, runtime.webhooks, runtime.metrics)).sent == 0
    clock.pin(lease_end + timedelta(seconds=1))
    assert (await dispatch(db, runtime.settings, runtime.webhooks, runtime.metrics)).outcomes == {
        "succeeded": 1
    }
    [delivery] = await _deliveries(api, endpoint)
    assert (delivery["status"], delivery["attempts"]) == ("SUCCEEDED", 2)
    # The dead worker's late answer cannot overwrite what the survivor recorded.
    assert not await webhook_store.settle(
        db,
        claimed,
        status=WebhookDeliveryStatus.FAILED,
        status_code=500,
        error="late",
        next_attempt_at=None,
    )
    assert len(hooks.received) == 1


async def test_two_dispatchers_at_once_send_every_delivery_exactly_once(
    api: Api, runtime: Runtime, hooks: WebhookReceiver
) -> None:
    await _endpoint(api, hooks.url, ["INVOICE_GENERATED", "INVOICE_PAID"])
    second, _ = await _endpoint(api, hooks.url + "?second", ["INVOICE_PAID"])
    invoices = [await _invoice(api, f"Customer {n}") for n in range(6)]
    for invoice in invoices:
        await api.gql(PAY, {"i": invoice})
    hooks.hang_seconds = 0.05  # sends overlap
    rounds = await asyncio.gather(
        *(
            dispatch(runtime.db, runtime.settings, runtime.webhooks, runtime.metrics)
            for _ in range(3)
        )
    )
    assert sum(r.announced for r in rounds) == 6 * 2 + 6
    assert sum(r.sent for r in rounds) == 18
    keys = [(r.path, r.json()["id"]) for r in hooks.received]
    assert len(keys) == len(set(keys)) == 18
    assert len(await _deliveries(api, second)) == 6
    await assert_consistent(runtime.db)


async def test_disabled_endpoints_get_nothing_until_enabled_and_events_before_an_endpoint_are_not_sent(
    api: Api, runtime: Runtime, hooks: WebhookReceiver
) -> None:
    before = await _invoice(api, "Before")  # generated before the endpoint existed
    endpoint, _ = await _endpoint(api, hooks.url, ["INVOICE_PAID"])
    disabled = await api.gql(
        "mutation($i: ID!) { disableWebhookEndpoint(id: $i) { endpoint { enabled disabledAt } errors { code } } }",
        {"i": endpoint},
    )
    assert disabled["disableWebhookEndpoint"]["endpoint"]["enabled"] is False
    assert disabled["disableWebhookEndpoint"]["endpoint"]["disabledAt"]
    await api.gql(PAY, {"i": before})
    assert (
        await dispatch(runtime.db, runtime.settings, runtime.webhooks, runtime.metrics)
    ).announced == 0
    assert hooks.received == []

    await api.gql(
        "mutation($i: ID!) { enableWebhookEndpoint(id: $i) { errors { code } } }", {"i": endpoint}
    )
    later = await _invoice(api, "Later")
    await api.gql(PAY, {"i": later})
    await dispatch(runtime.db, runtime.settings, runtime.webhooks, runtime.metrics)
    assert [(b["type"], b["data"]["invoice"]["id"]) for b in hooks.events()] == [
        ("invoice.paid", later)
    ]


async def test_a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends(
    api: Api, runtime: Runtime, hooks: WebhookReceiver, clock: PinnableClock
) -> None:
    clock.pin(NOW)
    endpoint, old = await _endpoint(api, hooks.url, ["INVOICE_GENERATED"])
    rotated = await api.gql(
        "mutation($i: ID!) { rotateWebhookSecret(id: $i) { secret endpoint { id } errors { code } } }",
        {"i": endpoint},
    )
    new = rotated["rotateWebhookSecret"]["secret"]
    assert new.startswith("whsec_") and new != old
    await _invoice(api)
    await dispatch(runtime.db, runtime.settings, runtime.webhooks, runtime.metrics)
    clock.pin(NOW + timedelta(hours=25))  # rotation_overlap_hours: 24
    await _invoice(api, "Next day")
    await dispatch(runtime.db, runtime.settings, runtime.webhooks, runtime.metrics)
    during, after = hooks.received
    at = int(NOW.timestamp())
    assert during.headers["Invoicing-Signature"].count("v1=") == 2
    assert rules.verify(new, during.headers["Invoicing-Signature"], during.body, now=at)
    assert rules.verify(old, during.headers["Invoicing-Signature"], during.body, now=at)
    later = at + 25 * 3600
    assert after.headers["Invoicing-Signature"].count("v1=") == 1
    assert rules.verify(new, after.headers["Invoicing-Signature"], after.body, now=later)
    assert not rules.verify(old, after.headers["Invoicing-Signature"], after.body, now=later)


async def test_redelivering_sends_the_same_event_again_as_a_new_delivery_in_the_log(
    api: Api, runtime: Runtime, hooks: WebhookReceiver
) -> None:
    endpoint, secret = await _endpoint(api, hooks.url, ["INVOICE_GENERATED"])
    await _invoice(api)
    await dispatch(runtime.db, runtime.settings, runtime.webhooks, runtime.metrics)
    [original] = await _deliveries(api, endpoint)
    again = await api.gql(
        "mutation($d: ID!) { redeliverWebhook(deliveryId: $d) { delivery { id status redeliveryOf eventId } errors { code } } }",
        {"d": original["id"]},
    )
    copy = again["redeliverWebhook"]["delivery"]
    assert copy["status"] == "PENDING" and copy["redeliveryOf"] == original["id"]
    assert copy["eventId"] == original["eventId"]
    await dispatch(runtime.db, runtime.settings, runtime.webhooks, runtime.metrics)
    first, second = (_verified(r, secret) for r in hooks.received)
    assert first == second  # same id: the receiver deduplicates on it
    log = await _deliveries(api, endpoint)
    assert [(d["id"], d["status"]) for d in log] == [
        (copy["id"], "SUCCEEDED"),
        (original["id"], "SUCCEEDED"),
    ]
    missing = await api.gql(
        'mutation { redeliverWebhook(deliveryId: "999999") { delivery { id } errors { code field } } }'
    )
    assert missing["redeliverWebhook"]["errors"] == [{"code": "NOT_FOUND", "field": "deliveryId"}]


async def test_a_rendered_pdf_and_a_sent_email_are_announced_and_a_failed_card_too(
    api: Api, runtime: Runtime, hooks: WebhookReceiver
) -> None:
    await _endpoint(api, hooks.url, ["INVOICE_PDF_READY", "INVOICE_EMAILED", "PAYMENT_FAILED"])
    invoice = await _invoice(api)
    customer = (
        await api.gql("query($i: ID!) { invoice(id: $i) { customer { id } } }", {"i": invoice})
    )["invoice"]["customer"]["id"]
    await api.gql(
        'mutation($c: ID!) { addContact(customerId: $c, input: {name: "Ana", email: "ana@example.com", type: BILLING}) { errors { code } } }',
        {"c": customer},
    )
    sent = await api.gql(
        "mutation($i: ID!) { emailInvoice(id: $i) { errors { code } } }", {"i": invoice}
    )
    assert sent["emailInvoice"]["errors"] == []
    declined = await api.gql(
        "mutation($i: ID!) { payInvoice(input: {invoiceId: $i, method: STRIPE}) { errors { code } } }",
        {"i": invoice},
    )
    assert declined["payInvoice"]["errors"] == [{"code": "NO_PAYMENT_METHOD"}]  # refused: no event
    await dispatch(runtime.db, runtime.settings, runtime.webhooks, runtime.metrics)
    events = sorted(hooks.events(), key=lambda body: body["sequence"])
    assert [b["type"] for b in events] == ["invoice.pdf_ready", "invoice.emailed"]
    assert "1 page" in events[0]["data"]["message"]
    assert events[1]["data"]["message"] == "sent to ana@example.com"


async def test_private_network_targets_are_refused_at_creation_and_at_every_send(
    api: Api, runtime: Runtime, hooks: WebhookReceiver
) -> None:
    guarded = runtime.settings.model_copy(
        update={
            "webhooks": runtime.settings.webhooks.model_copy(
                update={"allow_private_targets": False}
            )
        }
    )
    sender = open_webhook_sender(guarded)
    try:
        before = await snapshot(api.db)
        for url in (
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://10.1.2.3/hook",
            "http://192.168.0.10/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://0.0.0.0/hook",
            "https://no-such-host.invalid/hook",
        ):
            with pytest.raises(DomainError) as refused:
                await webhooks.create_endpoint(
                    api.db, SYSTEM, sender, url, [WebhookEventType.INVOICE_PAID]
                )
            assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_INPUT, "url"), (
                url
            )
        for url in ("ftp://example.com/x", "http://user:pw@example.com/", "/relative", "http://"):
            with pytest.raises(DomainError):
                await webhooks.create_endpoint(
                    api.db, SYSTEM, sender, url, [WebhookEventType.INVOICE_PAID]
                )
        assert await snapshot(api.db) == before

        # An endpoint made while private targets were allowed is not reached once they are not.
        endpoint, _ = await _endpoint(api, hooks.url, ["INVOICE_GENERATED"])
        await _invoice(api)
        assert (await dispatch(api.db, guarded, sender, runtime.metrics)).outcomes == {"pending": 1}
        [delivery] = await _deliveries(api, endpoint)
        assert delivery["lastStatusCode"] is None
        assert delivery["lastError"].startswith("refused: 127.0.0.1 leads to a non-public address")
        assert hooks.received == []
    finally:
        await sender.close()


async def test_bad_endpoint_input_is_refused_and_changes_nothing(api: Api) -> None:
    before = await snapshot(api.db)
    for url, events, field in (
        ("ftp://example.com/", ["INVOICE_PAID"], "url"),
        ("http://example.com/", [], "events"),
    ):
        made = (await api.gql(CREATE, {"url": url, "events": events}))["createWebhookEndpoint"]
        assert made["secret"] is None and made["endpoint"] is None
        assert [(e["code"], e["field"]) for e in made["errors"]] == [("INVALID_INPUT", field)]
    assert await snapshot(api.db) == before


async def test_customer_tokens_can_neither_see_nor_manage_webhooks(
    api: Api, hooks: WebhookReceiver
) -> None:
    endpoint, _ = await _endpoint(api, hooks.url, ["INVOICE_PAID"])
    customer = await make_customer(api.db)
    token = await api.customer_token(customer.id)
    made = await api.gql(CREATE, {"url": hooks.url, "events": ["INVOICE_PAID"]}, token=token)
    assert made["createWebhookEndpoint"]["errors"][0]["code"] == "FORBIDDEN"
    assert made["createWebhookEndpoint"]["secret"] is None
    seen = await api.gql(
        "query($e: ID!) { webhookEndpoints { id } webhookEndpoint(id: $e) { id } webhookDeliveries(endpointId: $e) { totalCount } }",
        {"e": endpoint},
        token=token,
    )
    assert seen == {
        "webhookEndpoints": [],
        "webhookEndpoint": None,
        "webhookDeliveries": {"totalCount": 0},
    }
    for mutation in ("disableWebhookEndpoint", "rotateWebhookSecret"):
        answer = await api.gql(
            f"mutation($i: ID!) {{ {mutation}(id: $i) {{ errors {{ code }} }} }}",
            {"i": endpoint},
            token=token,
        )
        assert answer[mutation]["errors"] == [{"code": "FORBIDDEN"}]


async def test_the_database_check_names_an_event_made_into_two_deliveries(
    api: Api, runtime: Runtime, hooks: WebhookReceiver
) -> None:
    endpoint, _ = await _endpoint(api, hooks.url, ["INVOICE_GENERATED"])
    await _invoice(api)
    await dispatch(runtime.db, runtime.settings, runtime.webhooks, runtime.metrics)
    await assert_consistent(runtime.db)
    async with runtime.db.transaction() as session:
        original = await session.get(
            WebhookDelivery, int((await _deliveries(api, endpoint))[0]["id"])
        )
        assert original is not None
        twin = WebhookDelivery(
            **{
                c: getattr(original, c)
                for c in ("endpoint_id", "event_id", "event_type", "invoice_id", "body")
            },
            status=WebhookDeliveryStatus.SUCCEEDED,
            attempts=1,
            next_attempt_at=original.next_attempt_at,
            last_status_code=500,
            last_error="",
        )
        session.add(twin)
    findings = [str(f) for f in await check_database(runtime.db, UTC_ZONE)]
    assert findings == [
        f"events made into two deliveries (delivery ids): {original.id}",
        f"deliveries SUCCEEDED without a 2xx answer (ids): {twin.id}",
    ]


async def test_deliveries_another_sender_holds_do_not_keep_the_due_ones_waiting(
    api: Api, runtime: Runtime, hooks: WebhookReceiver, clock: PinnableClock
) -> None:
    clock.pin(NOW)
    await _endpoint(api, hooks.url, ["INVOICE_GENERATED"])
    first = await _invoice(api, "First")
    second = await _invoice(api, "Second")
    assert await fan_out(runtime.db) == 2
    # Another worker holds the oldest delivery, its lease still running.
    [held] = await webhook_store.claim_due(runtime.db, NOW, NOW + timedelta(minutes=1), 1)
    one_at_a_time = runtime.settings.model_copy(
        update={"webhooks": runtime.settings.webhooks.model_copy(update={"concurrency": 1})}
    )
    report = await dispatch(runtime.db, one_at_a_time, runtime.webhooks, runtime.metrics)
    assert report.outcomes == {"succeeded": 1}
    assert [b["data"]["invoice"]["id"] for b in hooks.events()] == [second]
    assert json.loads(held.body)["data"]["invoice"]["id"] == first
