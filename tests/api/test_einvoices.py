"""E-invoicing through the API, as an integrator meets it: the buyer's identifiers and chosen
format, exempt and crediting charges, GET /crm/invoice/{id}/ubl, Invoice.eInvoice, the
Factur-X PDF, and demo data that is valid EN 16931 throughout."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

import pikepdf

from domain.bootstrap import Runtime
from domain.config import Settings
from domain.model.access import SYSTEM
from domain.model.einvoice import Syntax
from domain.ops.seed import seed_demo_data
from tests.einvoice.test_rules import CEN_RULES
from tests.helpers import Api, snapshot

UBL = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
PERIOD = {"startDate": "2025-01-01", "endDate": "2025-01-31"}
CUSTOMER = """
mutation($input: CustomerInput!) {
  createCustomer(input: $input) {
    customer { id taxId electronicAddress eInvoiceFormat }
    errors { code field message }
  }
}"""
UPDATE = """
mutation($id: ID!, $input: CustomerInput!) {
  updateCustomer(id: $id, input: $input) {
    customer { id taxId electronicAddress eInvoiceFormat }
    errors { code field message }
  }
}"""
CHARGE = """
mutation($input: TransactionInput!) {
  createTransaction(input: $input) {
    transaction { id taxExemptionReason creditsInvoice { number } }
    errors { code field message }
  }
}"""
GENERATE = """
mutation($input: GenerateInvoiceInput!) {
  generateInvoice(input: $input) { invoice { id number isCreditNote } errors { code message } }
}"""
EINVOICE = """
query($id: ID!, $format: EInvoiceFormat) {
  invoice(id: $id) {
    pdfUrl
    eInvoice(format: $format) {
      format url valid peppol
      errors { rule location message }
      warnings { rule }
    }
    lines { taxCategory taxExemptionReason creditedInvoiceNumber }
  }
}"""
ACME = {
    "name": "Acme Logistics Pty Ltd",
    "language": "en",
    "address": {
        "addressLine1": "12 Wharf Road",
        "city": "Sydney",
        "zipCode": "2000",
        "country": "Australia",
    },
    "taxId": "95 471 173 493",
    "electronicAddress": "0151:95471173493",
}


def refusal(response) -> dict[str, Any]:
    """A route's refusal in the API's one error shape."""
    error = response.json()["errors"][0]
    return {"code": error["extensions"]["code"], "message": error["message"]}


def jan(day: int) -> str:
    return datetime(2025, 1, day, 9, tzinfo=UTC).isoformat()


async def _customer(api: Api, **changes: Any) -> str:
    made = (await api.gql(CUSTOMER, {"input": {**ACME, **changes}}))["createCustomer"]
    assert made["errors"] == [], made
    return str(made["customer"]["id"])


async def _charge(api: Api, customer_id: str, cost: str, **extra: Any) -> dict[str, Any]:
    given = {"customerId": customer_id, "title": "Service", "retailCost": cost, "createdAt": jan(5)}
    return (await api.gql(CHARGE, {"input": {**given, **extra}}))["createTransaction"]


async def _generate(api: Api, customer_id: str) -> dict[str, Any]:
    made = await api.gql(GENERATE, {"input": {"customerId": customer_id, **PERIOD}})
    assert made["generateInvoice"]["errors"] == [], made
    return made["generateInvoice"]["invoice"]


async def _invoice(api: Api, **customer: Any) -> tuple[str, str]:
    customer_id = await _customer(api, **customer)
    await _charge(api, customer_id, "59.00", taxPercentage="10")
    await _charge(api, customer_id, "4.50", taxPercentage="0")
    return customer_id, (await _generate(api, customer_id))["id"]


async def _ubl(api: Api, invoice_id: str, token: str | None = None, **headers: str):
    auth = {"Authorization": f"Bearer {token or await api.staff_token()}"} if token != "" else {}
    return await api.client.get(f"/crm/invoice/{invoice_id}/ubl", headers={**auth, **headers})


async def test_a_customer_keeps_its_identifiers_and_chosen_format(api: Api) -> None:
    made = await api.gql(CUSTOMER, {"input": {**ACME, "eInvoiceFormat": "UBL"}})
    customer = made["createCustomer"]["customer"]
    assert (customer["taxId"], customer["electronicAddress"], customer["eInvoiceFormat"]) == (
        "95 471 173 493",
        "0151:95471173493",
        "UBL",
    )
    # Left out: unchanged. Null: cleared (the format back to the configured default).
    kept = await api.gql(UPDATE, {"id": customer["id"], "input": {"name": "Acme"}})
    assert kept["updateCustomer"]["customer"]["eInvoiceFormat"] == "UBL"
    assert kept["updateCustomer"]["customer"]["taxId"] == "95 471 173 493"
    cleared = await api.gql(
        UPDATE,
        {"id": customer["id"], "input": {"name": "Acme", "eInvoiceFormat": None, "taxId": None}},
    )
    assert cleared["updateCustomer"]["customer"]["eInvoiceFormat"] is None
    assert cleared["updateCustomer"]["customer"]["taxId"] is None


async def test_a_malformed_electronic_address_or_tax_id_is_refused_and_changes_nothing(
    api: Api,
) -> None:
    before = await snapshot(api.db)
    for field, value in (
        ("electronicAddress", "51824753556"),
        ("electronicAddress", "0151:"),
        ("taxId", "DE 123\n456"),
        ("taxId", "<script>"),
    ):
        refused = (await api.gql(CUSTOMER, {"input": {**ACME, field: value}}))["createCustomer"]
        assert refused["customer"] is None
        error = refused["errors"][0]
        assert error["code"] == "INVALID_INPUT", (field, value, error)
        assert error["field"] == field
    assert await snapshot(api.db) == before


async def test_an_exemption_reason_belongs_to_untaxed_charges_only(api: Api) -> None:
    customer_id = await _customer(api)
    exempt = await _charge(
        api,
        customer_id,
        "2.40",
        taxPercentage="0",
        taxExemptionReason="Input-taxed financial supply",
    )
    assert exempt["transaction"]["taxExemptionReason"] == "Input-taxed financial supply"
    before = await snapshot(api.db)
    refused = await _charge(
        api, customer_id, "10.00", taxPercentage="10", taxExemptionReason="Exempt"
    )
    assert refused["errors"][0]["code"] == "INVALID_INPUT"
    assert refused["errors"][0]["field"] == "taxExemptionReason"
    assert await snapshot(api.db) == before


async def test_a_products_exemption_reason_is_its_charges_default(api: Api) -> None:
    product = await api.gql(
        """mutation { createProduct(input: {name: "Payment-plan interest", taxPercentage: "0",
           taxExemptionReason: "Input-taxed financial supply"}) {
           product { id taxExemptionReason } errors { code } } }"""
    )
    product_id = product["createProduct"]["product"]["id"]
    customer_id = await _customer(api)
    charged = await _charge(api, customer_id, "3.10", productId=product_id)
    assert charged["transaction"]["taxExemptionReason"] == "Input-taxed financial supply"
    taxed = await _charge(api, customer_id, "3.10", productId=product_id, taxPercentage="10")
    assert taxed["transaction"]["taxExemptionReason"] is None


async def test_a_credit_note_cites_the_invoice_its_credit_corrects(api: Api) -> None:
    customer_id, first = await _invoice(api)
    numbered = (await api.gql(EINVOICE, {"id": first, "format": "UBL"}))["invoice"]
    assert numbered["eInvoice"]["valid"], numbered
    credit = await _charge(
        api,
        customer_id,
        "-20.00",
        taxPercentage="10",
        creditsInvoiceId=first,
        createdAt=datetime(2025, 2, 3, tzinfo=UTC).isoformat(),
    )
    assert credit["errors"] == []
    first_number = credit["transaction"]["creditsInvoice"]["number"]
    made = await api.gql(
        GENERATE,
        {"input": {"customerId": customer_id, "startDate": "2025-02-01", "endDate": "2025-02-28"}},
    )
    note = made["generateInvoice"]["invoice"]
    assert note["isCreditNote"]
    found = (await api.gql(EINVOICE, {"id": note["id"], "format": "UBL"}))["invoice"]
    assert found["lines"][0]["creditedInvoiceNumber"] == first_number
    assert found["eInvoice"]["valid"], found["eInvoice"]["errors"]
    ubl = ElementTree.fromstring((await _ubl(api, note["id"])).content)
    assert ubl.find("cbc:CreditNoteTypeCode", UBL).text == "381"
    cited = ubl.find("cac:BillingReference/cac:InvoiceDocumentReference", UBL)
    assert cited.find("cbc:ID", UBL).text == first_number
    assert cited.find("cbc:IssueDate", UBL).text is not None
    assert ubl.find("cac:LegalMonetaryTotal/cbc:PayableAmount", UBL).text == "22.00"


async def test_a_credit_may_cite_only_an_invoice_of_its_own_customer(api: Api) -> None:
    _, theirs = await _invoice(api, name="Globex Pty Ltd")
    mine, own = await _invoice(api)
    before = await snapshot(api.db)
    other = await _charge(api, mine, "-5.00", creditsInvoiceId=theirs)
    assert (other["errors"][0]["code"], other["errors"][0]["field"]) == (
        "NOT_FOUND",
        "creditsInvoiceId",
    )
    positive = await _charge(api, mine, "5.00", creditsInvoiceId=own)
    assert (positive["errors"][0]["code"], positive["errors"][0]["field"]) == (
        "INVALID_INPUT",
        "creditsInvoiceId",
    )
    assert "credit" in positive["errors"][0]["message"]
    assert await snapshot(api.db) == before


async def test_the_ubl_downloads_with_an_etag_and_the_same_auth_as_the_pdf(api: Api) -> None:
    customer_id, invoice_id = await _invoice(api)
    first = await _ubl(api, invoice_id)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("application/xml")
    assert first.headers["content-disposition"] == (
        f'attachment; filename="Invoice_{int(invoice_id):05d}.ubl.xml"'
    )
    root = ElementTree.fromstring(first.content)
    assert root.find("cbc:CustomizationID", UBL).text.endswith("poacc:billing:3.0")
    assert root.find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", UBL).text == (
        "95471173493"
    )
    again = await _ubl(api, invoice_id, **{"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert (await _ubl(api, invoice_id, token="")).status_code == 401
    own = await _ubl(api, invoice_id, token=await api.customer_token(int(customer_id)))
    assert own.status_code == 200 and own.content == first.content
    other_customer = await _customer(api, name="Globex")
    theirs = await _ubl(api, invoice_id, token=await api.customer_token(int(other_customer)))
    assert theirs.status_code == 404 and refusal(theirs)["code"] == "NOT_FOUND"
    assert (await _ubl(api, "999999")).status_code == 404


async def test_a_void_invoice_has_no_e_invoice(api: Api) -> None:
    _, invoice_id = await _invoice(api)
    voided = await api.gql(
        "mutation($id: ID!) { voidInvoice(id: $id) { errors { code } } }", {"id": invoice_id}
    )
    assert voided["voidInvoice"]["errors"] == []
    refused = await _ubl(api, invoice_id)
    assert refused.status_code == 409 and refusal(refused)["code"] == "ALREADY_VOID"
    found = await api.gql(EINVOICE, {"id": invoice_id, "format": "UBL"})
    assert found["invoice"]["eInvoice"] is None


async def test_an_invoice_that_breaks_a_rule_says_which_and_is_not_handed_out(api: Api) -> None:
    _, invoice_id = await _invoice(
        api, address={"addressLine1": "1 Main St", "city": "Atlantis", "country": "Atlantis"}
    )
    refused = await _ubl(api, invoice_id)
    assert refused.status_code == 422
    assert refusal(refused)["code"] == "EINVOICE_INVALID"
    assert "BR-11" in refusal(refused)["message"]
    status = (await api.gql(EINVOICE, {"id": invoice_id, "format": "UBL"}))["invoice"]["eInvoice"]
    assert (status["valid"], status["url"]) == (False, None)
    rules = [error["rule"] for error in status["errors"]]
    assert "CRM-BUYER-COUNTRY" in rules and "BR-11" in rules
    country = next(e for e in status["errors"] if e["rule"] == "CRM-BUYER-COUNTRY")
    assert "Atlantis" in country["message"]


async def test_einvoice_follows_the_customers_format_and_the_configured_default(
    api: Api,
) -> None:
    _, plain = await _invoice(api, name="No Preference")  # default_format NONE
    assert (await api.gql(EINVOICE, {"id": plain}))["invoice"]["eInvoice"] is None
    _, ubl = await _invoice(api, name="Wants UBL", eInvoiceFormat="UBL")
    found = (await api.gql(EINVOICE, {"id": ubl}))["invoice"]["eInvoice"]
    assert (found["format"], found["valid"], found["peppol"]) == ("UBL", True, True)
    assert found["url"] == f"https://crm.example.test/crm/invoice/{ubl}/ubl"
    _, fx = await _invoice(api, name="Wants Factur-X", eInvoiceFormat="FACTURX")
    found = (await api.gql(EINVOICE, {"id": fx}))["invoice"]
    assert found["eInvoice"]["format"] == "FACTURX" and found["eInvoice"]["valid"]
    assert found["eInvoice"]["url"] == found["pdfUrl"]
    assert [line["taxCategory"] for line in found["lines"]] == ["STANDARD", "ZERO_RATED"]


async def _pdf(api: Api, invoice_id: str):
    return await api.client.get(
        f"/crm/invoice/{invoice_id}/pdf",
        headers={"Authorization": f"Bearer {await api.staff_token()}"},
    )


async def test_a_factur_x_customers_pdf_carries_the_cii_and_a_plain_one_does_not(
    api: Api, runtime: Runtime
) -> None:
    customer_id, invoice_id = await _invoice(api, eInvoiceFormat="FACTURX")
    first = await _pdf(api, invoice_id)
    assert first.status_code == 200
    with pikepdf.open(io.BytesIO(first.content)) as pdf:
        xml = pdf.attachments["factur-x.xml"].get_file().read_bytes()
        assert pdf.open_metadata().pdfa_status == "3B"
    _, _, document = await runtime.pdfs.document_of(SYSTEM, int(invoice_id))
    assert xml == (await runtime.einvoices.checks.verdict(document, Syntax.CII)).xml
    # The customer changes its mind: the cached Factur-X PDF is not served as a plain one.
    await api.gql(
        UPDATE, {"id": customer_id, "input": {"name": ACME["name"], "eInvoiceFormat": "NONE"}}
    )
    second = await _pdf(api, invoice_id)
    assert second.headers["x-cache"] == "MISS"
    with pikepdf.open(io.BytesIO(second.content)) as pdf:
        assert list(pdf.attachments) == []
    status = await api.gql(
        "query($id: ID!) { invoice(id: $id) { pdf { stale } } }", {"id": invoice_id}
    )
    assert status["invoice"]["pdf"]["stale"] is False


async def test_every_seeded_invoice_is_a_valid_e_invoice_in_both_syntaxes(
    api: Api, runtime: Runtime, settings: Settings
) -> None:
    report = await seed_demo_data(api.db, settings)
    assert report.invoices > 10
    query = "{ invoices(perPage: 100) { items { id } } }"
    ids = [int(item["id"]) for item in (await api.gql(query))["invoices"]["items"]]
    assert len(ids) == report.invoices
    rules = [runtime.einvoices.checks]
    if CEN_RULES.is_dir():
        from domain.adapters.en16931_rules import En16931Rules
        from domain.services.einvoice_checks import EInvoiceChecks

        rules.append(EInvoiceChecks(settings, En16931Rules(CEN_RULES)))
    documents = await runtime.pdfs.documents_of(SYSTEM, ids)
    kinds = set()
    for invoice, _, document in documents.values():
        for checks in rules:
            for syntax in (Syntax.CII, Syntax.UBL):
                verdict = await checks.verdict(document, syntax)
                assert verdict.valid, (invoice.number, syntax, [str(f) for f in verdict.fatal])
                kinds.add((syntax, verdict.peppol))
        kinds.update(line.tax_exemption_reason is not None for line in document.lines)
    assert (Syntax.UBL, True) in kinds and (Syntax.UBL, False) in kinds
    assert True in kinds  # an exempt line among them
    for checks in rules[1:]:
        checks.validator.close()


async def test_a_factur_x_customer_whose_xml_breaks_a_rule_gets_a_plain_pdf(api: Api) -> None:
    _, invoice_id = await _invoice(
        api,
        eInvoiceFormat="FACTURX",
        address={"addressLine1": "1 Main St", "city": "Atlantis", "country": "Atlantis"},
    )
    response = await _pdf(api, invoice_id)
    assert response.status_code == 200
    with pikepdf.open(io.BytesIO(response.content)) as pdf:
        assert list(pdf.attachments) == []
    status = (await api.gql(EINVOICE, {"id": invoice_id}))["invoice"]["eInvoice"]
    assert (status["format"], status["valid"], status["url"]) == ("FACTURX", False, None)


async def test_a_ubl_customers_email_carries_the_pdf_and_the_ubl(
    api: Api, runtime: Runtime, tmp_path
) -> None:
    import email
    import email.policy

    from domain.model.enums import ContactType
    from tests.api.test_email import EMAIL as SEND
    from tests.api.test_email import _api
    from tests.helpers import add_contact

    outbox = tmp_path / "outbox"
    async for dev in _api(api, runtime, email={"backend": "outbox", "outbox_dir": str(outbox)}):
        customer_id, invoice_id = await _invoice(dev, eInvoiceFormat="UBL")
        await add_contact(dev.db, int(customer_id), "ap@acme.example", ContactType.BILLING)
        sent = (await dev.gql(SEND, {"id": invoice_id}))["emailInvoice"]
        assert sent["errors"] == []
    [file] = list(outbox.glob("*.eml"))
    message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
    assert all(part.defects == [] for part in message.walk())
    pdf, ubl = message.iter_attachments()
    assert pdf.get_content_type() == "application/pdf"
    assert ubl.get_content_type() == "application/xml"
    assert ubl.get_filename() == f"Invoice_{int(invoice_id):05d}.ubl.xml"
    root = ElementTree.fromstring(ubl.get_content())
    assert root.find("cbc:ID", UBL).text.startswith("INV-")
