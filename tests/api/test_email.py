"""Invoice emails through the real mailjet-rest client (against a local fake Mailjet) and
through the development outbox."""

import asyncio
import base64
import dataclasses
import email
import email.policy
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from domain.bootstrap import Runtime, open_mail
from domain.config import settings_from_mapping
from domain.errors import InvalidInput
from domain.model.access import SYSTEM
from domain.model.commands import ContactData, GenerateRequest
from domain.model.entities import Contact, Customer
from domain.model.enums import ContactType, Role
from domain.services import billing, customers
from domain.services.tokens import mint_token
from graph.app import build_app
from tests.conftest import TEMPLATES
from tests.fakes.mailjet_server import KEY, SECRET, FakeMailjet
from tests.helpers import Api, add_contact, make_charge, make_customer
from tests.pdf.test_rendering import pdf_pages

EMAIL = """
mutation($id: ID!) {
  emailInvoice(id: $id) { invoice { id events { kind message } } recipients errors { code message } }
}"""


@pytest.fixture(scope="module")
def mailjet() -> Iterator[FakeMailjet]:
    fake = FakeMailjet()
    yield fake
    fake.close()


async def _api(api: Api, runtime: Runtime, **email_settings) -> AsyncIterator[Api]:
    settings = settings_from_mapping(
        {
            "database": {"url": runtime.settings.database.url},
            "server": {"public_url": "https://crm.example.test"},
            "invoice": {
                "template_dir": str(TEMPLATES),
                "pdf_cache": {"prerender_on_generate": False},
            },
            **email_settings,
        }
    )
    configured = dataclasses.replace(
        runtime, settings=settings, mail=open_mail(settings, runtime.clock)
    )
    transport = httpx.ASGITransport(app=build_app(settings, runtime=configured))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        ready = Api(client, api.db)
        ready._staff = await api.staff_token()
        yield ready


def _mailjet_settings(mailjet: FakeMailjet, secret: str = SECRET, limit: float = 15) -> dict:
    return {
        "email": {"backend": "mailjet", "attachment_limit_mb": limit},
        "mailjet": {
            "api_key": KEY,
            "api_secret": secret,
            "api_url": mailjet.url,
            "invoice_template_id": 4242,
            "sender_email": "billing@norfone.example",
            "sender_name": "Norfone Billing",
        },
    }


@pytest.fixture
async def mj_api(api: Api, runtime: Runtime, mailjet: FakeMailjet) -> AsyncIterator[Api]:
    mailjet.sent.clear()
    mailjet.reject_with = None
    async for ready in _api(api, runtime, **_mailjet_settings(mailjet)):
        yield ready


async def _invoice(
    api: Api, runtime: Runtime, contacts: list[tuple[str, ContactType]], lines: int = 1
) -> tuple[int, int]:
    customer = await make_customer(api.db, "Acme Logistics")
    for address, kind in contacts:
        await add_contact(api.db, customer.id, address, kind)
    for day in range(lines):
        await make_charge(
            api.db,
            customer.id,
            "100.00",
            tax="10",
            created_at=datetime(2025, 1, 1 + day % 28, tzinfo=UTC),
        )
    request = GenerateRequest(
        customer_id=customer.id,
        start_date=date(2025, 1, 1),
        end_date=date(2025, 1, 31),
        due_date=date(2025, 2, 15),
    )
    return (
        await billing.generate_invoice(api.db, runtime.settings, SYSTEM, request)
    ).id, customer.id


async def test_the_invoice_goes_to_the_billing_contacts_with_its_pdf(
    mj_api: Api, runtime: Runtime, mailjet: FakeMailjet
) -> None:
    invoice_id, _ = await _invoice(
        mj_api,
        runtime,
        [
            ("ap@acme.example", ContactType.BILLING),
            ("boss@acme.example", ContactType.PRIMARY),
            ("ar@acme.example", ContactType.BILLING),
        ],
    )
    sent = (await mj_api.gql(EMAIL, {"id": str(invoice_id)}))["emailInvoice"]
    assert sent["errors"] == [] and sent["recipients"] == ["ap@acme.example", "ar@acme.example"]
    assert sent["invoice"]["events"][-1] == {
        "kind": "EMAILED",
        "message": "sent to ap@acme.example, ar@acme.example",
    }
    [message] = mailjet.sent
    assert [to["Email"] for to in message["To"]] == ["ap@acme.example", "ar@acme.example"]
    assert message["TemplateID"] == 4242 and message["TemplateLanguage"] is True
    variables = message["Variables"]
    assert variables["customer_name"] == "Acme Logistics" and variables["total_amount"] == "$110.00"
    assert variables["due_date"] == "February 15, 2025"
    # The customer opens it without a token: the invoice page, signed and expiring.
    assert variables["invoice_url"].startswith(f"https://crm.example.test/i/{invoice_id}.")
    opened = await mj_api.client.get(
        variables["invoice_url"].removeprefix("https://crm.example.test")
    )
    assert opened.status_code == 200 and variables["invoice_number"] in opened.text
    # Paid on this service's own page unless a portal is configured: the same signed page.
    assert variables["pay_url"].startswith(f"https://crm.example.test/i/{invoice_id}.")
    paying = await mj_api.client.get(variables["pay_url"].removeprefix("https://crm.example.test"))
    assert paying.status_code == 200 and "Amount due: $110.00" in paying.text
    assert variables["state"] == "open" and variables["paid_date"] == ""
    assert variables["document"] == "invoice"  # "credit_note" for a credit note
    assert set(variables) == {
        "document",
        "customer_name",
        "invoice_number",
        "invoice_date",
        "due_date",
        "paid_date",
        "state",
        "total_amount",
        "invoice_url",
        "pay_url",
        "amount_due",
        "amount_paid",
    }
    assert (variables["amount_due"], variables["amount_paid"]) == ("$110.00", "")
    [attachment] = message["Attachments"]
    assert (
        attachment["Filename"] == f"Invoice_{invoice_id:05d}.pdf"
        and attachment["ContentType"] == "application/pdf"
    )
    assert variables["invoice_number"] in " ".join(
        pdf_pages(base64.b64decode(attachment["Base64Content"]))
    )


async def test_without_billing_contacts_the_primary_ones_get_it(
    mj_api: Api, runtime: Runtime
) -> None:
    invoice_id, _ = await _invoice(
        mj_api,
        runtime,
        [("boss@acme.example", ContactType.PRIMARY), ("x@acme.example", ContactType.OTHER)],
    )
    assert (await mj_api.gql(EMAIL, {"id": str(invoice_id)}))["emailInvoice"]["recipients"] == [
        "boss@acme.example"
    ]


async def test_no_billing_or_primary_contact_answers_no_recipient(
    mj_api: Api, runtime: Runtime, mailjet: FakeMailjet
) -> None:
    invoice_id, _ = await _invoice(mj_api, runtime, [("x@acme.example", ContactType.OTHER)])
    refused = (await mj_api.gql(EMAIL, {"id": str(invoice_id)}))["emailInvoice"]
    assert refused["errors"][0]["code"] == "NO_RECIPIENT" and mailjet.sent == []


async def test_mailjet_refusing_is_an_email_provider_error_and_nothing_counts_as_sent(
    mj_api: Api, runtime: Runtime, mailjet: FakeMailjet
) -> None:
    invoice_id, _ = await _invoice(mj_api, runtime, [("ap@acme.example", ContactType.BILLING)])
    mailjet.reject_with = 'The template ID "4242" doesn\'t exist for your account.'
    refused = (await mj_api.gql(EMAIL, {"id": str(invoice_id)}))["emailInvoice"]
    assert (
        refused["errors"][0]["code"] == "EMAIL_PROVIDER_ERROR"
        and "doesn't exist for your account" in refused["errors"][0]["message"]
    )
    history = await mj_api.gql(
        "query($id: ID!) { invoice(id: $id) { events { kind } } }", {"id": str(invoice_id)}
    )
    assert [e["kind"] for e in history["invoice"]["events"]] == [
        "GENERATED",
        "PDF_READY",  # rendered to be attached
        "EMAIL_FAILED",
    ]


async def test_bad_mailjet_credentials_are_reported(
    api: Api, runtime: Runtime, mailjet: FakeMailjet
) -> None:
    async for bad in _api(api, runtime, **_mailjet_settings(mailjet, secret="wrong")):
        invoice_id, _ = await _invoice(bad, runtime, [("ap@acme.example", ContactType.BILLING)])
        refused = (await bad.gql(EMAIL, {"id": str(invoice_id)}))["emailInvoice"]
        assert refused["errors"][0]["code"] == "EMAIL_PROVIDER_ERROR"
        assert "authentication" in refused["errors"][0]["message"].lower()


async def test_an_attachment_over_the_limit_sends_nothing(
    api: Api, runtime: Runtime, mailjet: FakeMailjet
) -> None:
    mailjet.sent.clear()
    async for small in _api(api, runtime, **_mailjet_settings(mailjet, limit=0.005)):  # about 5 KB
        invoice_id, _ = await _invoice(small, runtime, [("ap@acme.example", ContactType.BILLING)])
        refused = (await small.gql(EMAIL, {"id": str(invoice_id)}))["emailInvoice"]
        assert refused["errors"][0]["code"] == "ATTACHMENT_TOO_LARGE" and mailjet.sent == []


async def test_void_invoices_are_not_sent(
    mj_api: Api, runtime: Runtime, mailjet: FakeMailjet
) -> None:
    invoice_id, _ = await _invoice(mj_api, runtime, [("ap@acme.example", ContactType.BILLING)])
    await mj_api.gql(
        "mutation($id: ID!) { voidInvoice(id: $id) { errors { code } } }", {"id": str(invoice_id)}
    )
    refused = (await mj_api.gql(EMAIL, {"id": str(invoice_id)}))["emailInvoice"]
    assert refused["errors"][0]["code"] == "ALREADY_VOID" and mailjet.sent == []


async def test_a_customer_emails_its_own_invoices_only(mj_api: Api, runtime: Runtime) -> None:
    mine, customer_id = await _invoice(mj_api, runtime, [("ap@acme.example", ContactType.BILLING)])
    theirs, _ = await _invoice(mj_api, runtime, [("ap@globex.example", ContactType.BILLING)])
    token = await mj_api.customer_token(customer_id)
    assert (await mj_api.gql(EMAIL, {"id": str(mine)}, token=token))["emailInvoice"]["errors"] == []
    other = (await mj_api.gql(EMAIL, {"id": str(theirs)}, token=token))["emailInvoice"]
    assert other["errors"][0]["code"] == "NOT_FOUND"


async def test_the_outbox_keeps_each_message_with_its_pdf(
    api: Api, runtime: Runtime, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    async for dev in _api(api, runtime, email={"backend": "outbox", "outbox_dir": str(outbox)}):
        invoice_id, _ = await _invoice(dev, runtime, [("ap@acme.example", ContactType.BILLING)])
        sent = (await dev.gql(EMAIL, {"id": str(invoice_id)}))["emailInvoice"]
        assert sent["errors"] == []
    [file] = list(outbox.glob("*.eml"))
    message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
    assert all(part.defects == [] for part in message.walk())
    assert [a.addr_spec for a in message["To"].addresses] == ["ap@acme.example"]
    assert (
        message["Subject"].startswith("Invoice INV-") and message["Date"] and message["Message-ID"]
    )
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f"Pay online: https://crm.example.test/i/{invoice_id}." in text
    assert f'href="https://crm.example.test/i/{invoice_id}.' in html and "Amount due" in html
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == f"Invoice_{invoice_id:05d}.pdf"
    assert "Acme Logistics" in " ".join(pdf_pages(attachment.get_content()))


async def test_without_a_mailjet_template_mailjet_sends_the_same_parts_as_the_outbox(
    api: Api, runtime: Runtime, mailjet: FakeMailjet, tmp_path: Path, clock
) -> None:
    # Both sends in the same second: the signed link they carry expires at the same moment.
    clock.pin(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    mailjet.sent.clear()
    settings = _mailjet_settings(mailjet)
    settings["mailjet"]["invoice_template_id"] = 0
    async for mj in _api(api, runtime, **settings):
        invoice_id, _ = await _invoice(mj, runtime, [("ap@acme.example", ContactType.BILLING)])
        assert (await mj.gql(EMAIL, {"id": str(invoice_id)}))["emailInvoice"]["errors"] == []
    outbox = tmp_path / "outbox"
    async for dev in _api(api, runtime, email={"backend": "outbox", "outbox_dir": str(outbox)}):
        assert (await dev.gql(EMAIL, {"id": str(invoice_id)}))["emailInvoice"]["errors"] == []
    [sent] = mailjet.sent
    assert "TemplateID" not in sent and "Variables" not in sent
    [file] = list(outbox.glob("*.eml"))
    message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)

    def part(kind: str) -> str:  # as a mail client shows it: line ends are the transport's
        return message.get_body(preferencelist=(kind,)).get_content().replace("\r\n", "\n")

    assert sent["TextPart"] == part("plain") and sent["HTMLPart"] == part("html")
    assert sent["Subject"] == message["Subject"]


async def test_a_customer_saved_with_an_unknown_language_still_gets_an_english_invoice(
    mj_api: Api, runtime: Runtime, mailjet: FakeMailjet
) -> None:
    """Rows saved before languages were checked may say "zz": the email and its PDF are
    written in English rather than failing for that customer."""
    invoice_id, customer_id = await _invoice(
        mj_api, runtime, [("ap@acme.example", ContactType.BILLING)]
    )
    async with mj_api.db.transaction() as session:
        await session.execute(
            update(Customer).where(Customer.id == customer_id).values(language="zz")
        )
    sent = (await mj_api.gql(EMAIL, {"id": str(invoice_id)}))["emailInvoice"]
    assert sent["errors"] == []
    [message] = mailjet.sent
    assert message["Variables"]["due_date"] == "February 15, 2025"
    [attachment] = message["Attachments"]
    pages = pdf_pages(base64.b64decode(attachment["Base64Content"]))
    assert "$110.00" in pages[0]


INVOICE_EVENTS = "query($id: ID!) { invoice(id: $id) { events { kind actor message } } }"


async def test_a_customer_may_email_an_invoice_three_times_a_day_and_staff_always(
    mj_api: Api, runtime: Runtime, mailjet: FakeMailjet, clock
) -> None:
    invoice_id, customer_id = await _invoice(
        mj_api, runtime, [("ap@acme.example", ContactType.BILLING)]
    )
    token = await mj_api.customer_token(customer_id)
    clock.pin(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    for _ in range(3):
        sent = await mj_api.gql(EMAIL, {"id": str(invoice_id)}, token=token)
        assert sent["emailInvoice"]["errors"] == []
    refused = (await mj_api.gql(EMAIL, {"id": str(invoice_id)}, token=token))["emailInvoice"]
    assert refused["errors"][0]["code"] == "TOO_MANY_REQUESTS"
    assert "3 times in 24 hours" in refused["errors"][0]["message"]
    assert len(mailjet.sent) == 3
    # Staff are not limited, and their sends do not use up the customer's.
    assert (await mj_api.gql(EMAIL, {"id": str(invoice_id)}))["emailInvoice"]["errors"] == []
    clock.pin(datetime(2026, 3, 3, 9, 1, tzinfo=UTC))
    again = await mj_api.gql(EMAIL, {"id": str(invoice_id)}, token=token)
    assert again["emailInvoice"]["errors"] == []
    assert len(mailjet.sent) == 5


async def test_parallel_sends_by_a_customer_cannot_pass_the_limit_together(
    mj_api: Api, runtime: Runtime, mailjet: FakeMailjet
) -> None:
    invoice_id, customer_id = await _invoice(
        mj_api, runtime, [("ap@acme.example", ContactType.BILLING)]
    )
    token = await mj_api.customer_token(customer_id)
    answers = await asyncio.gather(
        *(mj_api.gql(EMAIL, {"id": str(invoice_id)}, token=token) for _ in range(8))
    )
    codes = sorted((a["emailInvoice"]["errors"] or [{"code": "SENT"}])[0]["code"] for a in answers)
    assert codes == ["SENT"] * 3 + ["TOO_MANY_REQUESTS"] * 5
    assert len(mailjet.sent) == 3


async def test_a_customer_sees_staff_or_you_in_the_history_never_a_tokens_name(
    mj_api: Api, runtime: Runtime
) -> None:
    invoice_id, customer_id = await _invoice(
        mj_api, runtime, [("ap@acme.example", ContactType.BILLING)]
    )
    jane = (await mint_token(mj_api.db, Role.STAFF, "Jane Doe (collections)")).token
    mine = (await mint_token(mj_api.db, Role.CUSTOMER, "portal of acme", customer_id)).token
    await mj_api.gql(EMAIL, {"id": str(invoice_id)}, token=jane)
    await mj_api.gql(EMAIL, {"id": str(invoice_id)}, token=mine)
    as_customer = (await mj_api.gql(INVOICE_EVENTS, {"id": str(invoice_id)}, token=mine))[
        "invoice"
    ]["events"]
    as_staff = (await mj_api.gql(INVOICE_EVENTS, {"id": str(invoice_id)}, token=jane))["invoice"][
        "events"
    ]
    assert [(e["kind"], e["actor"]) for e in as_customer] == [
        ("GENERATED", "staff"),
        ("PDF_READY", "staff"),
        ("EMAILED", "staff"),
        ("EMAILED", "you"),
    ]
    assert [e["actor"] for e in as_staff] == [
        "system",
        "renderer",
        "Jane Doe (collections)",
        "portal of acme",
    ]
    assert as_customer[2]["message"] == "sent to ap@acme.example"


async def test_a_contacts_name_never_adds_a_recipient_or_a_header(
    api: Api, runtime: Runtime, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    async for dev in _api(api, runtime, email={"backend": "outbox", "outbox_dir": str(outbox)}):
        invoice_id, customer_id = await _invoice(dev, runtime, [])
        await customers.add_contact(
            dev.db,
            SYSTEM,
            customer_id,
            ContactData("Bob <bob@evil.example>, Alice", "ap@acme.example", ContactType.BILLING),
        )
        # A line break in a name is refused at the door...
        with pytest.raises(InvalidInput, match="one line"):
            await customers.add_contact(
                dev.db,
                SYSTEM,
                customer_id,
                ContactData(
                    "Carol\r\nBcc: victim@evil.example", "ar@acme.example", ContactType.BILLING
                ),
            )
        # ...and one saved before that still cannot add a header.
        async with dev.db.transaction() as session:
            session.add(
                Contact(
                    customer_id=customer_id,
                    name="Carol\r\nBcc: victim@evil.example",
                    email="ar@acme.example",
                    type=ContactType.BILLING,
                )
            )
        sent = (await dev.gql(EMAIL, {"id": str(invoice_id)}))["emailInvoice"]
        assert sent["errors"] == [], sent
    [file] = list(outbox.glob("*.eml"))
    message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
    assert all(part.defects == [] for part in message.walk())
    assert [a.addr_spec for a in message["To"].addresses] == ["ap@acme.example", "ar@acme.example"]
    assert message["To"].addresses[0].display_name == "Bob <bob@evil.example>, Alice"
    assert message["Bcc"] is None and "victim" not in str(message["To"].addresses[1].addr_spec)


async def test_a_name_with_a_line_break_is_refused_by_the_api(mj_api: Api) -> None:
    customer = await make_customer(mj_api.db, "Acme Logistics")
    answer = await mj_api.gql(
        """mutation($id: ID!, $name: String!) {
          updateCustomer(id: $id, input: {name: $name}) { errors { code field message } }
        }""",
        {"id": str(customer.id), "name": "Acme\nBcc: x@evil.example"},
    )
    [error] = answer["updateCustomer"]["errors"]
    assert error["code"] == "INVALID_INPUT" and error["field"] == "name"
