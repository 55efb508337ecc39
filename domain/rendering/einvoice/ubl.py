"""An EN 16931 invoice as OASIS UBL 2.1: an Invoice, or a CreditNote for a credit note.

It claims Peppol BIS Billing 3.0 when both parties have an electronic address (Peppol
routes by them and its rules demand them); otherwise EN 16931 alone. Elements are written
in the order the UBL 2.1 schemas demand."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from domain.model.einvoice import EInvoice, Party, TaxCategory
from domain.rendering.einvoice.xml import Builder, amount, document, rate

EN16931 = "urn:cen.eu:en16931:2017"
PEPPOL_CUSTOMIZATION = f"{EN16931}#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
_CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
_INVOICE = Builder({"inv": _INVOICE_NS, "cac": _CAC, "cbc": _CBC})
_CREDIT_NOTE = Builder({"cn": _CREDIT_NOTE_NS, "cac": _CAC, "cbc": _CBC})


def is_peppol(invoice: EInvoice) -> bool:
    """Whether the UBL claims Peppol BIS: both parties can be reached on the network."""
    return invoice.seller.electronic_address is not None and (
        invoice.buyer.electronic_address is not None
    )


def write_ubl(invoice: EInvoice) -> bytes:
    credit = invoice.is_credit_note
    x = _CREDIT_NOTE if credit else _INVOICE
    root = x.root("cn:CreditNote" if credit else "inv:Invoice", unprefixed=True)
    peppol = is_peppol(invoice)
    x.add(root, "cbc:CustomizationID", PEPPOL_CUSTOMIZATION if peppol else EN16931)
    if peppol:
        x.add(root, "cbc:ProfileID", PEPPOL_PROFILE)
    x.add(root, "cbc:ID", invoice.number)
    x.add(root, "cbc:IssueDate", invoice.issue_date.isoformat())
    if not credit and invoice.due_date:
        x.add(root, "cbc:DueDate", invoice.due_date.isoformat())
    x.add(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode", invoice.type_code)
    for note in invoice.notes:
        x.add(root, "cbc:Note", note)
    x.add(root, "cbc:DocumentCurrencyCode", invoice.currency)
    x.optional(root, "cbc:BuyerReference", invoice.buyer_reference)
    if invoice.period_start and invoice.period_end:
        period = x.add(root, "cac:InvoicePeriod")
        x.add(period, "cbc:StartDate", invoice.period_start.isoformat())
        x.add(period, "cbc:EndDate", invoice.period_end.isoformat())
    for reference in invoice.preceding:
        cited = x.add(x.add(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        x.add(cited, "cbc:ID", reference.number)
        if reference.issue_date:
            x.add(cited, "cbc:IssueDate", reference.issue_date.isoformat())
    _party(x, x.add(root, "cac:AccountingSupplierParty"), invoice.seller, seller=True)
    _party(x, x.add(root, "cac:AccountingCustomerParty"), invoice.buyer, seller=False)
    payment = invoice.payment
    if payment is not None:
        means = x.add(root, "cac:PaymentMeans")
        x.add(means, "cbc:PaymentMeansCode", payment.means_code)
        x.add(means, "cbc:PaymentID", payment.remittance)
        if payment.account_id:
            account = x.add(means, "cac:PayeeFinancialAccount")
            x.add(account, "cbc:ID", payment.account_id)
            x.optional(account, "cbc:Name", payment.account_name)
            if payment.bank_id:
                branch = x.add(account, "cac:FinancialInstitutionBranch")
                x.add(branch, "cbc:ID", payment.bank_id)
    if invoice.payment_terms:
        x.add(x.add(root, "cac:PaymentTerms"), "cbc:Note", invoice.payment_terms)

    currency = {"currencyID": invoice.currency}
    tax_total = x.add(root, "cac:TaxTotal")
    x.add(tax_total, "cbc:TaxAmount", amount(invoice.totals.tax), **currency)
    for group in invoice.breakdown:
        subtotal = x.add(tax_total, "cac:TaxSubtotal")
        x.add(subtotal, "cbc:TaxableAmount", amount(group.taxable_amount), **currency)
        x.add(subtotal, "cbc:TaxAmount", amount(group.tax_amount), **currency)
        category = x.add(subtotal, "cac:TaxCategory")
        x.add(category, "cbc:ID", group.category.value)
        x.add(category, "cbc:Percent", rate(group.rate))
        if group.category is TaxCategory.EXEMPT:
            x.optional(category, "cbc:TaxExemptionReason", group.exemption_reason)
        x.add(x.add(category, "cac:TaxScheme"), "cbc:ID", "VAT")

    totals = invoice.totals
    monetary = x.add(root, "cac:LegalMonetaryTotal")
    x.add(monetary, "cbc:LineExtensionAmount", amount(totals.line_total), **currency)
    x.add(monetary, "cbc:TaxExclusiveAmount", amount(totals.tax_exclusive), **currency)
    x.add(monetary, "cbc:TaxInclusiveAmount", amount(totals.tax_inclusive), **currency)
    if totals.prepaid:
        x.add(monetary, "cbc:PrepaidAmount", amount(totals.prepaid), **currency)
    x.add(monetary, "cbc:PayableAmount", amount(totals.payable), **currency)

    for line in invoice.lines:
        element = x.add(root, "cac:CreditNoteLine" if credit else "cac:InvoiceLine")
        x.add(element, "cbc:ID", line.id)
        quantity = "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity"
        x.add(element, quantity, f"{line.quantity:f}", unitCode=line.unit_code)
        x.add(element, "cbc:LineExtensionAmount", amount(line.net_amount), **currency)
        item = x.add(element, "cac:Item")
        x.optional(item, "cbc:Description", line.description)
        x.add(item, "cbc:Name", line.name)
        category = x.add(item, "cac:ClassifiedTaxCategory")
        x.add(category, "cbc:ID", line.category.value)
        x.add(category, "cbc:Percent", rate(line.tax_rate))
        x.add(x.add(category, "cac:TaxScheme"), "cbc:ID", "VAT")
        x.add(x.add(element, "cac:Price"), "cbc:PriceAmount", amount(line.price), **currency)
    return document(root)


def _party(x: Builder, role: Element, party: Party, *, seller: bool) -> None:
    element = x.add(role, "cac:Party")
    if party.electronic_address is not None:
        address = party.electronic_address
        x.add(element, "cbc:EndpointID", address.value, schemeID=address.scheme)
    if party.trading_name:
        x.add(x.add(element, "cac:PartyName"), "cbc:Name", party.trading_name)
    postal = x.add(element, "cac:PostalAddress")
    x.optional(postal, "cbc:StreetName", party.address.line_one)
    x.optional(postal, "cbc:AdditionalStreetName", party.address.line_two)
    x.optional(postal, "cbc:CityName", party.address.city)
    x.optional(postal, "cbc:PostalZone", party.address.postcode)
    x.optional(postal, "cbc:CountrySubentity", party.address.region)
    country = x.add(postal, "cac:Country")
    x.optional(country, "cbc:IdentificationCode", party.address.country_code)
    if party.vat_id:
        scheme = x.add(element, "cac:PartyTaxScheme")
        x.add(scheme, "cbc:CompanyID", party.vat_id)
        x.add(x.add(scheme, "cac:TaxScheme"), "cbc:ID", "VAT")
    if seller and party.tax_registration_id:
        scheme = x.add(element, "cac:PartyTaxScheme")
        x.add(scheme, "cbc:CompanyID", party.tax_registration_id)
        x.add(x.add(scheme, "cac:TaxScheme"), "cbc:ID", "TAX")
    legal = x.add(element, "cac:PartyLegalEntity")
    x.add(legal, "cbc:RegistrationName", party.name)
    if party.legal_id:
        scheme_id = {"schemeID": party.legal_id_scheme} if party.legal_id_scheme else {}
        x.add(legal, "cbc:CompanyID", party.legal_id, **scheme_id)
    if party.phone or party.email:
        contact = x.add(element, "cac:Contact")
        x.optional(contact, "cbc:Telephone", party.phone)
        x.optional(contact, "cbc:ElectronicMail", party.email)
