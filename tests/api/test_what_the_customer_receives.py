"""What the invoice's customer receives follows the invoice: the pay link leads to this
service's own invoice page (or the CRM's portal when one is configured), a paid invoice's
email is a receipt that asks for nothing, a credit note's file says it is one, and the
page speaks the customer's language, its error pages the browser's."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from domain.bootstrap import Runtime
from domain.config import settings_from_mapping
from domain.model.enums import ContactType
from graph.app import build_app
from tests.api.test_credit_notes import GENERATE as GENERATE_CREDIT
from tests.api.test_credit_notes import PERIOD, _credits
from tests.api.test_email import EMAIL, _api
from tests.api.test_email import _invoice as _emailable_invoice
from tests.api.test_invoice_links import PAY, SHARE, _invoice
from tests.helpers import Api, add_contact

PAY_URL = "query($id: ID!) { invoice(id: $id) { number payUrl shareUrl } }"


def _path(url: str) -> str:
    return urlsplit(url).path


async def test_the_pay_link_opens_the_invoices_own_page_and_stays_the_same(
    api: Api, runtime: Runtime
) -> None:
    invoice_id, _ = await _invoice(api, runtime)
    first = (await api.gql(PAY_URL, {"id": str(invoice_id)}))["invoice"]
    again = (await api.gql(PAY_URL, {"id": str(invoice_id)}))["invoice"]
    # The same link in the PDF, the emails and the API, however often it is asked for.
    assert first["payUrl"] == again["payUrl"]
    assert first["payUrl"].startswith(f"https://crm.example.test/i/{invoice_id}.")
    page = await api.client.get(_path(first["payUrl"]))
    assert page.status_code == 200 and first["number"] in page.text
    assert "Amount due: $110.00" in page.text


async def test_a_crm_with_its_own_portal_sends_customers_there(api: Api, runtime: Runtime) -> None:
    invoice_id, _ = await _invoice(api, runtime)
    settings = settings_from_mapping(
        {
            "database": {"url": runtime.settings.database.url},
            "server": {"public_url": "https://crm.example.test"},
            "invoice": {"pay_url_template": "https://portal.example.com/pay/{number}"},
        }
    )
    configured = dataclasses.replace(runtime, settings=settings)
    transport = httpx.ASGITransport(app=build_app(settings, runtime=configured))
    headers = {"Authorization": f"Bearer {await api.staff_token()}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers=headers
    ) as portal:
        found = (
            await portal.post(
                "/graphql", json={"query": PAY_URL, "variables": {"id": str(invoice_id)}}
            )
        ).json()["data"]["invoice"]
        assert found["payUrl"] == f"https://portal.example.com/pay/{found['number']}"
        page = await portal.get(_path(found["shareUrl"]))
    assert f"href='https://portal.example.com/pay/{found['number']}'" in page.text
    assert "Pay online</a>" in page.text


async def test_a_paid_invoice_emailed_is_a_receipt_that_asks_for_nothing(
    api: Api, runtime: Runtime, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    async for dev in _api(api, runtime, email={"backend": "outbox", "outbox_dir": str(outbox)}):
        invoice_id, _ = await _emailable_invoice(
            dev, runtime, [("ap@acme.example", ContactType.BILLING)]
        )
        assert (await dev.gql(PAY, {"id": str(invoice_id)}))["payInvoice"]["errors"] == []
        assert (await dev.gql(EMAIL, {"id": str(invoice_id)}))["emailInvoice"]["errors"] == []
    [file] = list(outbox.glob("*.eml"))
    message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
    assert message["Subject"].startswith("Receipt for invoice INV-")
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "was paid on" in text and "Nothing is due." in text
    for asking in ("Pay online", "due on", "Amount due"):
        assert asking not in text and asking not in html
    assert "Paid on" in html and "/i/" in html  # the page to view it, still


async def test_a_credit_note_downloads_and_travels_as_a_credit_note(
    api: Api, runtime: Runtime, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    async for dev in _api(api, runtime, email={"backend": "outbox", "outbox_dir": str(outbox)}):
        customer_id = await _credits(dev)
        await add_contact(dev.db, customer_id, "ap@refundable.example", ContactType.BILLING)
        made = (
            await dev.gql(GENERATE_CREDIT, {"input": {"customerId": str(customer_id), **PERIOD}})
        )["generateInvoice"]["invoice"]
        pdf = await dev.client.get(
            f"/crm/invoice/{made['id']}/pdf",
            headers={"Authorization": f"Bearer {await dev.staff_token()}"},
        )
        assert made["number"].startswith("CN-")
        expected = f"CreditNote_{made['number']}.pdf"
        assert pdf.headers["content-disposition"] == f'attachment; filename="{expected}"'
        assert (await dev.gql(EMAIL, {"id": made["id"]}))["emailInvoice"]["errors"] == []
    [file] = list(outbox.glob("*.eml"))
    message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
    [attachment] = [
        a for a in message.iter_attachments() if a.get_content_type() == "application/pdf"
    ]
    assert attachment.get_filename() == expected
    assert message["Subject"].startswith("Credit note CN-")


async def test_a_spanish_customer_reads_the_page_in_spanish_and_so_do_its_error_pages(
    api: Api, runtime: Runtime
) -> None:
    invoice_id, _ = await _invoice(api, runtime, name="Hotel Miramar")
    async with api.db.transaction() as session:
        from domain.model.entities import Customer, Invoice

        invoice = await session.get(Invoice, invoice_id)
        customer = await session.get(Customer, invoice.customer_id)
        customer.language = "es"
    shared = (await api.gql(SHARE, {"id": str(invoice_id)}))["invoice"]["shareUrl"]
    page = await api.client.get(_path(shared))
    assert page.status_code == 200
    assert "Descargar PDF" in page.text and "Importe pendiente:" in page.text
    assert "Pague por transferencia" in page.text and "Download PDF" not in page.text
    broken = _path(shared)[:-3] + "xyz"
    refused = await api.client.get(broken, headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert refused.status_code == 403 and "Este enlace ha caducado o no es válido." in refused.text
    english = await api.client.get(broken, headers={"Accept-Language": "de-DE,en;q=0.8"})
    assert "This link has expired or is not valid." in english.text
