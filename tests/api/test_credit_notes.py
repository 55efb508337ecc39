"""Credit notes (invoices of credits only, a negative total) and zero totals, through
preview, generate, the list, stats, the PDF, email and settlement."""

import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path

from domain.bootstrap import Runtime
from domain.model.enums import ContactType
from tests.api.test_email import EMAIL, _api
from tests.consistency import assert_consistent
from tests.helpers import Api, add_contact, make_charge, make_customer
from tests.pdf.test_rendering import pdf_pages

PERIOD = {"startDate": "2025-01-01", "endDate": "2025-01-31"}
GENERATE = """
mutation($input: GenerateInvoiceInput!) {
  generateInvoice(input: $input) {
    invoice { id number title total status isCreditNote actions paidAt }
    errors { code }
  }
}"""
PAY = """
mutation($input: PayInvoiceInput!) {
  payInvoice(input: $input) { invoice { status paymentMethod } errors { code message } }
}"""


def jan(day: int) -> datetime:
    return datetime(2025, 1, day, 12, tzinfo=UTC)


async def _credits(api: Api, name: str = "Refundable Ltd", language: str = "en") -> int:
    customer = await make_customer(api.db, name, language)
    await make_charge(api.db, customer.id, "-15.00", tax="0", created_at=jan(3))
    await make_charge(api.db, customer.id, "-12.50", tax="0", created_at=jan(4))
    return customer.id


async def test_a_credit_only_invoice_is_a_credit_note_never_paid(api: Api) -> None:
    customer_id = await _credits(api)
    preview = await api.gql(
        "query($i: InvoicePreviewInput!) { invoicePreview(input: $i) { total } }",
        {"i": {"customerId": str(customer_id), **PERIOD}},
    )
    assert preview["invoicePreview"]["total"] == "-27.50"
    made = (await api.gql(GENERATE, {"input": {"customerId": str(customer_id), **PERIOD}}))[
        "generateInvoice"
    ]["invoice"]
    assert made["number"].startswith("CN-") and made["title"].startswith("Credit note for")
    assert (made["total"], made["status"], made["isCreditNote"]) == ("-27.50", "UNPAID", True)
    assert made["actions"] == ["DOWNLOAD_PDF", "SEND_EMAIL", "VOID"]
    for method in ("CASH", "POS", "BANK_TRANSFER", "STRIPE"):
        refused = (await api.gql(PAY, {"input": {"invoiceId": made["id"], "method": method}}))[
            "payInvoice"
        ]
        assert refused["errors"][0]["code"] == "NOT_PAYABLE", method
        assert "credit note" in refused["errors"][0]["message"]
    listed = await api.gql(
        "{ invoices { items { number total } } invoiceStats { total { amount count } unpaid { amount } } }"
    )
    assert listed["invoices"]["items"] == [{"number": made["number"], "total": "-27.50"}]
    stats = listed["invoiceStats"]
    assert (stats["total"]["amount"], stats["total"]["count"]) == ("-27.50", 1)
    assert stats["unpaid"]["amount"] == "-27.50"
    await assert_consistent(api.db)


async def test_staff_settle_a_credit_note_by_returning_its_funds(api: Api) -> None:
    customer_id = await _credits(api)
    made = (await api.gql(GENERATE, {"input": {"customerId": str(customer_id), **PERIOD}}))[
        "generateInvoice"
    ]["invoice"]
    returned = (
        await api.gql(
            PAY,
            {
                "input": {
                    "invoiceId": made["id"],
                    "method": "REFUND",
                    "reference": "Transfer to the customer 2025-02-03",
                }
            },
        )
    )["payInvoice"]
    assert returned["errors"] == []
    assert returned["invoice"] == {"status": "PAID", "paymentMethod": "REFUND"}
    settled = await api.gql(
        "query($c: ID!) { transactions(filter: {customerId: $c}) { items { kind retailCost } } }",
        {"c": str(customer_id)},
    )
    kinds = sorted((i["kind"], i["retailCost"]) for i in settled["transactions"]["items"])
    assert kinds == [("CHARGE", "-12.50"), ("CHARGE", "-15.00"), ("REFUND", "27.50")]
    await assert_consistent(api.db)


async def test_a_zero_total_is_settled_when_it_is_generated(api: Api) -> None:
    customer = await make_customer(api.db, "Evens Ltd")
    await make_charge(api.db, customer.id, "10.00", tax="0", created_at=jan(3))
    await make_charge(api.db, customer.id, "-10.00", tax="0", created_at=jan(4))
    made = (await api.gql(GENERATE, {"input": {"customerId": str(customer.id), **PERIOD}}))[
        "generateInvoice"
    ]["invoice"]
    assert (made["total"], made["status"], made["isCreditNote"]) == ("0.00", "PAID", False)
    assert made["paidAt"] is not None and "PAY" not in made["actions"]
    await assert_consistent(api.db)


async def test_a_credit_notes_pdf_and_email_say_credit_note(
    api: Api, runtime: Runtime, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    async for dev in _api(api, runtime, email={"backend": "outbox", "outbox_dir": str(outbox)}):
        customer_id = await _credits(dev, "Hotel Miramar", language="es")
        await add_contact(dev.db, customer_id, "cuentas@miramar.example", ContactType.BILLING)
        made = (await dev.gql(GENERATE, {"input": {"customerId": str(customer_id), **PERIOD}}))[
            "generateInvoice"
        ]["invoice"]
        pdf = await dev.client.get(
            f"/crm/invoice/{made['id']}/pdf",
            headers={"Authorization": f"Bearer {await dev.staff_token()}"},
        )
        assert pdf.status_code == 200
        (page,) = pdf_pages(pdf.content)
        assert f"Nota de crédito {made['number']}" in page
        assert "Pagar en línea" not in page  # nothing to pay
        sent = (await dev.gql(EMAIL, {"id": made["id"]}))["emailInvoice"]
        assert sent["errors"] == []
    [file] = list(outbox.glob("*.eml"))
    message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == f"Nota de crédito {made['number']} de Norfone Telecom"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "27,50\xa0US$ a su favor" in body.get_content()
