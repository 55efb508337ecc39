"""Our invoice as EN 16931 sees it: categories, totals, credit notes, parties, the XML."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from domain.config import Settings, settings_from_mapping
from domain.model.commands import AddressData
from domain.model.countries import country_code
from domain.model.einvoice import (
    DocumentType,
    ElectronicAddress,
    Syntax,
    TaxCategory,
    has_country_prefix,
)
from domain.rendering.documents import InvoiceDocument, document_from_mapping
from domain.rendering.einvoice import syntax_of, write_einvoice
from domain.rendering.einvoice.mapping import en16931

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
UBL = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
RAM = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}


def fixture(name: str) -> InvoiceDocument:
    data = yaml.safe_load((FIXTURES / f"{name}.yaml").read_text(encoding="utf-8"))
    return document_from_mapping(data, "en", "USD")


def test_taxed_lines_are_standard_rated_and_untaxed_ones_zero_rated_unless_exempt() -> None:
    invoice = en16931(fixture("credits_and_zero_tax"), Settings()).invoice
    assert [line.category for line in invoice.lines] == [
        TaxCategory.STANDARD,
        TaxCategory.ZERO_RATED,
        TaxCategory.STANDARD,
        TaxCategory.EXEMPT,
    ]
    groups = {(g.category, g.rate): g for g in invoice.breakdown}
    assert groups[(TaxCategory.STANDARD, Decimal(10))].taxable_amount == Decimal("14.90")
    assert groups[(TaxCategory.STANDARD, Decimal(10))].tax_amount == Decimal("1.49")
    exempt = groups[(TaxCategory.EXEMPT, Decimal(0))]
    assert exempt.exemption_reason == "Input-taxed financial supply"
    assert exempt.tax_amount == 0 and exempt.taxable_amount == Decimal("2.40")


def test_document_totals_are_the_sums_of_the_rounded_lines_the_pdf_shows() -> None:
    document = fixture("long_120_lines")
    invoice = en16931(document, Settings()).invoice
    assert invoice.totals.line_total == document.subtotal
    assert invoice.totals.tax == document.tax == sum(g.tax_amount for g in invoice.breakdown)
    assert invoice.totals.payable == document.subtotal + document.tax
    assert sum(g.taxable_amount for g in invoice.breakdown) == invoice.totals.line_total


def test_a_credit_note_is_a_381_with_its_amounts_turned_positive_and_cites_what_it_credits() -> (
    None
):
    document = fixture("credit_note")
    invoice = en16931(document, Settings()).invoice
    assert invoice.type_code is DocumentType.CREDIT_NOTE
    assert invoice.totals.payable == -(document.subtotal + document.tax) == Decimal("29.00")
    assert all(line.net_amount > 0 and line.quantity == 1 for line in invoice.lines)
    assert [(r.number, r.issue_date) for r in invoice.preceding] == [
        ("INV-2025-001100", date(2025, 1, 1)),
        ("INV-2024-000980", date(2024, 12, 1)),
    ]
    assert invoice.payment is None  # nothing for the buyer to pay


def test_a_credit_on_an_invoice_is_minus_one_unit_at_a_positive_price() -> None:
    line = en16931(fixture("credits_and_zero_tax"), Settings()).invoice.lines[2]
    assert line.net_amount == Decimal("-15.00")
    assert (line.quantity, line.price) == (Decimal(-1), Decimal("15.00"))


def test_the_ubl_of_a_credit_note_is_a_creditnote_with_billing_references() -> None:
    written = write_einvoice(fixture("credit_note"), Settings(), Syntax.UBL)
    root = ElementTree.fromstring(written.xml)
    assert root.tag == "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"
    cited = root.findall("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", UBL)
    assert [c.text for c in cited] == ["INV-2025-001100", "INV-2024-000980"]
    assert root.find("cbc:CreditNoteTypeCode", UBL).text == "381"
    assert syntax_of(written.xml) is Syntax.UBL


def test_the_cii_carries_the_exemption_reason_in_its_vat_breakdown() -> None:
    written = write_einvoice(fixture("credits_and_zero_tax"), Settings(), Syntax.CII)
    root = ElementTree.fromstring(written.xml)
    taxes = root.findall(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", RAM)
    by_category = {t.find("ram:CategoryCode", RAM).text: t for t in taxes}
    assert set(by_category) == {"S", "Z", "E"}
    assert by_category["E"].find("ram:ExemptionReason", RAM).text == "Input-taxed financial supply"
    assert syntax_of(written.xml) is Syntax.CII


def test_ubl_claims_peppol_only_when_both_parties_have_an_electronic_address() -> None:
    australian = fixture("short")  # 0151:95471173493
    assert write_einvoice(australian, Settings(), Syntax.UBL).peppol
    no_address = replace(australian, client=replace(australian.client, electronic_address=None))
    written = write_einvoice(no_address, Settings(), Syntax.UBL)
    assert not written.peppol
    root = ElementTree.fromstring(written.xml)
    assert root.find("cbc:CustomizationID", UBL).text == "urn:cen.eu:en16931:2017"
    unreachable_seller = settings_from_mapping({"business": {"seller": {"electronic_address": ""}}})
    assert not write_einvoice(australian, unreachable_seller, Syntax.UBL).peppol


def test_a_vat_number_is_the_buyers_vat_id_and_a_business_number_its_legal_id() -> None:
    document = fixture("short")
    german = replace(document, client=replace(document.client, tax_id="DE 123456789"))
    assert en16931(german, Settings()).invoice.buyer.vat_id == "DE123456789"
    buyer = en16931(document, Settings()).invoice.buyer
    assert (buyer.vat_id, buyer.legal_id, buyer.legal_id_scheme) == (None, "95471173493", "0151")
    assert has_country_prefix("EL123456789") and not has_country_prefix("ABN95471173493")


def test_a_country_no_language_names_is_left_out_and_said_why() -> None:
    document = fixture("short")
    unknown = AddressData(address_line_1="1 Main St", city="Nowhere", country="Narnia")
    mapped = en16931(
        replace(document, client=replace(document.client, address=unknown)), Settings()
    )
    assert mapped.invoice.buyer.address.country_code is None
    assert [p.rule for p in mapped.problems] == ["CRM-BUYER-COUNTRY"]
    assert "Narnia" in mapped.problems[0].text


def test_a_draft_is_not_an_e_invoice() -> None:
    assert [p.rule for p in en16931(fixture("draft"), Settings()).problems] == ["CRM-DRAFT"]


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Australia", "AU"),
        ("España", "ES"),
        ("mexico", "MX"),
        ("United States", "US"),
        ("USA", "US"),
        ("Hong Kong SAR", "HK"),
        ("Deutschland", "DE"),
        ("no", "NO"),
        ("Narnia", None),
        ("", None),
    ],
)
def test_country_names_are_known_in_several_languages(typed: str, code: str | None) -> None:
    assert country_code(typed) == code


def test_electronic_addresses_are_scheme_colon_id() -> None:
    assert ElectronicAddress.parse(" 0151:51824753556 ") == ElectronicAddress("0151", "51824753556")
    assert str(ElectronicAddress.parse("EM:ap@example.com")) == "EM:ap@example.com"
    for wrong in ("51824753556", "151:1", "0151:", "ABCD:1"):
        with pytest.raises(ValueError, match="scheme:id"):
            ElectronicAddress.parse(wrong)
