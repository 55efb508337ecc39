import dataclasses
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from domain.bootstrap import Runtime
from domain.config import Settings, settings_from_mapping
from domain.model.access import SYSTEM
from domain.model.commands import AddressData, CustomerData, GenerateRequest
from domain.rendering.renderer import DocumentRenderer
from domain.services import billing, customers
from domain.services.invoice_pdfs import InvoicePdfs
from graph.app import build_app
from tests.helpers import Api, make_charge, make_customer
from tests.pdf.test_rendering import pdf_pages


async def _invoice(api: Api, settings: Settings, name: str = "Acme Logistics") -> tuple[int, int]:
    customer = await make_customer(api.db, name)
    await make_charge(
        api.db,
        customer.id,
        "100.00",
        tax="10",
        title="Internet January",
        created_at=datetime(2025, 1, 5, tzinfo=UTC),
    )
    request = GenerateRequest(
        customer_id=customer.id, start_date=date(2025, 1, 1), end_date=date(2025, 1, 31)
    )
    invoice = await billing.generate_invoice(api.db, settings, SYSTEM, request)
    return invoice.id, customer.id


async def _download(
    api: Api, invoice_id: int, token: str | None = None, **headers: str
) -> httpx.Response:
    auth = {"Authorization": f"Bearer {token or await api.staff_token()}"} if token != "" else {}
    return await api.client.get(f"/crm/invoice/{invoice_id}/pdf", headers={**auth, **headers})


async def test_the_pdf_downloads_as_an_attachment_then_comes_from_the_cache(
    api: Api, settings: Settings
) -> None:
    invoice_id, _ = await _invoice(api, settings)
    first = await _download(api, invoice_id)
    assert first.status_code == 200 and first.headers["content-type"] == "application/pdf"
    assert (
        first.headers["content-disposition"]
        == f'attachment; filename="Invoice_{invoice_id:05d}.pdf"'
    )
    assert first.headers["x-cache"] == "MISS"
    assert "Acme Logistics" in " ".join(pdf_pages(first.content))
    second = await _download(api, invoice_id)
    assert second.headers["x-cache"] == "HIT" and second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    unchanged = await _download(api, invoice_id, **{"If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""


async def test_downloads_need_a_token_and_customers_get_only_theirs(
    api: Api, settings: Settings
) -> None:
    mine, my_customer = await _invoice(api, settings)
    theirs, _ = await _invoice(api, settings, "Globex")
    assert (await _download(api, mine, token="")).status_code == 401
    assert (await _download(api, mine, token="inv_wrong")).status_code == 401
    portal = await api.customer_token(my_customer)
    assert (await _download(api, mine, token=portal)).status_code == 200
    other = await _download(api, theirs, token=portal)
    missing = await _download(api, 999999)
    garbage = await api.client.get(
        "/crm/invoice/abc/pdf", headers={"Authorization": f"Bearer {await api.staff_token()}"}
    )
    assert other.status_code == missing.status_code == garbage.status_code == 404
    code = lambda answer: answer.json()["errors"][0]["extensions"]["code"]  # noqa: E731
    assert code(other) == code(missing) == code(garbage) == "NOT_FOUND"


async def test_a_broken_template_answers_a_json_error_naming_the_line(
    api: Api, runtime: Runtime, tmp_path: Path
) -> None:
    (tmp_path / "broken.html").write_text(
        "<h1>{{ invoice_number }}</h1>\n{% for x in transactions %}{{ x.nope }}{% endfor %}\n"
    )
    settings = settings_from_mapping(
        {
            "database": {"url": runtime.settings.database.url},
            "invoice": {"template_dir": str(tmp_path), "template_filename": "broken.html"},
        }
    )
    broken = dataclasses.replace(
        runtime,
        settings=settings,
        pdfs=InvoicePdfs(
            runtime.db, settings, DocumentRenderer(settings, runtime.renderer), runtime.metrics
        ),
    )
    invoice_id, _ = await _invoice(api, settings)
    transport = httpx.ASGITransport(app=build_app(settings, runtime=broken))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get(
            f"/crm/invoice/{invoice_id}/pdf",
            headers={"Authorization": f"Bearer {await api.staff_token()}"},
        )
    assert response.status_code == 422
    body = response.json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "PDF_RENDER_FAILED"
    assert "broken.html, line 2" in error["message"]
    assert "Traceback" not in response.text


async def test_invoice_pdf_tells_freshness_without_downloading(
    api: Api, settings: Settings
) -> None:
    invoice_id, _ = await _invoice(api, settings)
    query = (
        "query($id: ID!) { invoice(id: $id) { pdf { hash stale sizeBytes pageCount renderedAt } } }"
    )
    assert (await api.gql(query, {"id": str(invoice_id)}))["invoice"]["pdf"] is None
    downloaded = await _download(api, invoice_id)
    pdf = (await api.gql(query, {"id": str(invoice_id)}))["invoice"]["pdf"]
    assert f'"{pdf["hash"]}"' == downloaded.headers["etag"]
    assert (pdf["stale"], pdf["sizeBytes"], pdf["pageCount"]) == (False, len(downloaded.content), 1)
    await api.gql(
        "mutation($id: ID!) { voidInvoice(id: $id) { errors { code } } }", {"id": str(invoice_id)}
    )
    assert (await api.gql(query, {"id": str(invoice_id)}))["invoice"]["pdf"]["stale"] is True


async def test_the_preview_offers_a_draft_pdf_of_what_would_be_billed(
    api: Api, settings: Settings
) -> None:
    customer = await make_customer(api.db, "Hotel Miramar", "es")
    await make_charge(
        api.db,
        customer.id,
        "80.00",
        tax="21",
        title="Habitación 204",
        created_at=datetime(2025, 1, 5, tzinfo=UTC),
    )
    await make_charge(
        api.db,
        customer.id,
        "15.00",
        tax="21",
        title="Minibar",
        created_at=datetime(2025, 1, 6, tzinfo=UTC),
    )
    preview = await api.gql(
        'query($c: ID!) { invoicePreview(input: {customerId: $c, startDate: "2025-01-01", endDate: "2025-01-31"}) { pdfUrl lines { transaction { id title } } } }',
        {"c": str(customer.id)},
    )
    minibar = next(
        line["transaction"]["id"]
        for line in preview["invoicePreview"]["lines"]
        if line["transaction"]["title"] == "Minibar"
    )
    url = preview["invoicePreview"]["pdfUrl"].replace("https://crm.example.test", "") + minibar
    response = await api.client.get(
        url, headers={"Authorization": f"Bearer {await api.staff_token()}"}
    )
    assert response.status_code == 200
    text = " ".join(pdf_pages(response.content))
    assert "BORRADOR" in text and "Habitación 204" in text and "Minibar" not in text
    async with api.db.read() as session:
        from sqlalchemy import func, select

        from domain.model.entities import Invoice, InvoicePdfCache

        assert (await session.execute(select(func.count()).select_from(Invoice))).scalar_one() == 0
        assert (
            await session.execute(select(func.count()).select_from(InvoicePdfCache))
        ).scalar_one() == 0


async def test_staff_clear_cached_pdfs(api: Api, settings: Settings) -> None:
    first, customer_id = await _invoice(api, settings)
    second, _ = await _invoice(api, settings, "Globex")
    await _download(api, first)
    await _download(api, second)
    clear = "mutation($id: ID) { clearInvoicePdfCache(invoiceId: $id) { cleared errors { code } } }"
    assert (await api.gql(clear, {"id": str(first)}))["clearInvoicePdfCache"] == {
        "cleared": 1,
        "errors": [],
    }
    assert (await _download(api, first)).headers["x-cache"] == "MISS"
    assert (await api.gql(clear, {"id": None}))["clearInvoicePdfCache"] == {
        "cleared": 2,
        "errors": [],
    }
    portal = await api.gql(clear, {"id": None}, token=await api.customer_token(customer_id))
    assert portal["clearInvoicePdfCache"] == {"cleared": 0, "errors": [{"code": "FORBIDDEN"}]}


_opened: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _opened is not None and event == "open" and args and isinstance(args[0], str | bytes):
        _opened.append(str(args[0]))


sys.addaudithook(_audit)  # records only while a test sets _opened


async def test_text_from_data_is_never_read_as_a_reference_to_a_file(
    api: Api, settings: Settings
) -> None:
    global _opened
    bait = "see url(file:///etc/passwd) and url(/proc/self/mem) and url(../../../../etc/shadow)"
    customer = await customers.create_customer(
        api.db,
        settings,
        SYSTEM,
        CustomerData(
            name=f"Acme {bait}"[:200],
            address=AddressData(address_line_1=bait[:200], city="url(file:///etc/hosts)"),
        ),
    )
    await make_charge(
        api.db, customer.id, "10.00", title=bait[:200], created_at=datetime(2025, 1, 5, tzinfo=UTC)
    )
    request = GenerateRequest(
        customer_id=customer.id, start_date=date(2025, 1, 1), end_date=date(2025, 1, 31)
    )
    invoice = await billing.generate_invoice(api.db, settings, SYSTEM, request)
    _opened = []
    try:
        first = await _download(api, invoice.id)
    finally:
        seen, _opened = _opened, None
    assert first.status_code == 200, first.text
    assert not [
        path
        for path in seen
        if "passwd" in path or "/proc/self" in path or "shadow" in path or "hosts" in path
    ]
    assert "url(file:///etc/passwd)" in " ".join(pdf_pages(first.content))
