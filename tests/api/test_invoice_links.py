"""The link a customer gets by email opens the invoice without a token: the page (the same
template as the PDF), its PDF, its pay link while it is open. A link changed, expired or
signed with a replaced secret opens nothing."""

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

from domain.bootstrap import Runtime
from domain.model.access import SYSTEM
from domain.model.commands import GenerateRequest
from domain.services import billing
from domain.store.deployment import rotate_link_secret
from tests.helpers import Api, make_charge, make_customer
from tests.pdf.test_rendering import pdf_pages

SHARE = "query($id: ID!) { invoice(id: $id) { number shareUrl } }"
PAY = """
mutation($id: ID!) {
  payInvoice(input: {invoiceId: $id, method: CASH, reference: "R-1"}) { errors { code } }
}"""


async def _invoice(api: Api, runtime: Runtime, name: str = "Acme Logistics") -> tuple[int, int]:
    customer = await make_customer(api.db, name)
    await make_charge(
        api.db, customer.id, "100.00", tax="10", created_at=datetime(2025, 1, 5, tzinfo=UTC)
    )
    request = GenerateRequest(
        customer_id=customer.id, start_date=date(2025, 1, 1), end_date=date(2025, 1, 31)
    )
    invoice = await billing.generate_invoice(api.db, runtime.settings, SYSTEM, request)
    return invoice.id, customer.id


def _path(url: str) -> str:
    assert url.startswith("https://crm.example.test/i/"), url
    return urlsplit(url).path


async def _share(api: Api, invoice_id: int, token: str | None = None) -> tuple[str, str]:
    found = (await api.gql(SHARE, {"id": str(invoice_id)}, token=token))["invoice"]
    return found["number"], _path(found["shareUrl"])


async def test_the_link_opens_the_invoice_its_pdf_and_its_assets_without_a_token(
    api: Api, runtime: Runtime
) -> None:
    invoice_id, _ = await _invoice(api, runtime)
    number, link = await _share(api, invoice_id)
    page = await api.client.get(link)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert number in page.text and "Acme Logistics" in page.text and "$110.00" in page.text
    assert "Download PDF" in page.text and "Amount due: $110.00, due on" in page.text
    # No portal is configured: this page is where to pay, by the bank transfer it names.
    assert "Pay by bank transfer to Norfone Telecom Pty Ltd, account 062000 12345678" in page.text
    assert "Pay online</a>" not in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "script-src" not in page.headers["content-security-policy"]  # none at all
    # The stylesheets and images the page names load, and nothing else of the folder.
    base = re.search(r'<base href="([^"]+)">', page.text).group(1)
    assert base == "https://crm.example.test/invoice-assets/"
    stylesheets = re.findall(r'href="([^"]+\.css)"', page.text)
    assert stylesheets
    for name in stylesheets:
        assert (await api.client.get(f"/invoice-assets/{name}")).status_code == 200
    for private in ("norfone_invoice_template.html", "../crm_config.yaml", "golden/x.png"):
        assert (await api.client.get(f"/invoice-assets/{private}")).status_code == 404

    pdf = await api.client.get(f"{link}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert number in " ".join(pdf_pages(pdf.content))
    again = await api.client.get(f"{link}/pdf", headers={"If-None-Match": "*"})
    assert again.status_code == 304


async def test_a_paid_invoice_has_no_pay_link(api: Api, runtime: Runtime) -> None:
    invoice_id, _ = await _invoice(api, runtime)
    _, link = await _share(api, invoice_id)
    assert (await api.gql(PAY, {"id": str(invoice_id)}))["payInvoice"]["errors"] == []
    page = await api.client.get(link)
    assert page.status_code == 200 and "Pay online" not in page.text
    assert "Paid on" in page.text and "Amount due" not in page.text


async def test_a_changed_expired_or_revoked_link_opens_nothing(
    api: Api, runtime: Runtime, clock
) -> None:
    clock.pin(datetime(2026, 3, 1, tzinfo=UTC))
    mine, _ = await _invoice(api, runtime)
    theirs, _ = await _invoice(api, runtime, "Zeta Hidden Holdings")
    _, link = await _share(api, mine)
    forged = link.replace(f"/i/{mine}.", f"/i/{theirs}.")
    for address in (forged, link[:-2] + "xx", link + "0", "/i/nonsense"):
        refused = await api.client.get(address)
        assert refused.status_code in (403, 404), address
        assert "Zeta" not in refused.text and "INV-" not in refused.text
    clock.pin(datetime(2026, 3, 1, tzinfo=UTC) + timedelta(days=90))
    expired = await api.client.get(link)
    assert expired.status_code == 403 and "expired or is not valid" in expired.text
    clock.pin(datetime(2026, 3, 2, tzinfo=UTC))
    assert (await api.client.get(link)).status_code == 200
    await rotate_link_secret(api.db)
    assert (await api.client.get(link)).status_code == 403
    assert (await api.client.get(f"{link}/pdf")).status_code == 403


async def test_a_customer_gets_its_own_invoices_link_too(api: Api, runtime: Runtime) -> None:
    invoice_id, customer_id = await _invoice(api, runtime)
    token = await api.customer_token(customer_id)
    _, link = await _share(api, invoice_id, token=token)
    assert (await api.client.get(link)).status_code == 200
