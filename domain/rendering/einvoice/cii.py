"""An EN 16931 invoice as UN/CEFACT Cross Industry Invoice (D16B), the XML Factur-X and
ZUGFeRD embed in the PDF: the Factur-X "EN 16931" profile, whose guideline id is the
standard's own. Elements are written in the order the Factur-X EN 16931 schema demands."""

from __future__ import annotations

import re
from datetime import date
from xml.etree.ElementTree import Element

from domain.model.einvoice import EInvoice, Party, TaxCategory
from domain.rendering.einvoice.xml import Builder, amount, document, rate, ymd

GUIDELINE = "urn:cen.eu:en16931:2017"
_X = Builder(
    {
        "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
        "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
        "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
        "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    }
)
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")


def write_cii(invoice: EInvoice) -> bytes:
    root = _X.root("rsm:CrossIndustryInvoice")
    context = _X.add(root, "rsm:ExchangedDocumentContext")
    _X.add(_X.add(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE)

    header = _X.add(root, "rsm:ExchangedDocument")
    _X.add(header, "ram:ID", invoice.number)
    _X.add(header, "ram:TypeCode", invoice.type_code.value)
    _date(header, "ram:IssueDateTime", invoice.issue_date)
    for note in invoice.notes:
        _X.add(_X.add(header, "ram:IncludedNote"), "ram:Content", note)

    trade = _X.add(root, "rsm:SupplyChainTradeTransaction")
    for line in invoice.lines:
        item = _X.add(trade, "ram:IncludedSupplyChainTradeLineItem")
        _X.add(_X.add(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", line.id)
        product = _X.add(item, "ram:SpecifiedTradeProduct")
        _X.add(product, "ram:Name", line.name)
        _X.optional(product, "ram:Description", line.description)
        price = _X.add(
            _X.add(item, "ram:SpecifiedLineTradeAgreement"), "ram:NetPriceProductTradePrice"
        )
        _X.add(price, "ram:ChargeAmount", amount(line.price))
        delivery = _X.add(item, "ram:SpecifiedLineTradeDelivery")
        _X.add(delivery, "ram:BilledQuantity", f"{line.quantity:f}", unitCode=line.unit_code)
        settlement = _X.add(item, "ram:SpecifiedLineTradeSettlement")
        tax = _X.add(settlement, "ram:ApplicableTradeTax")
        _X.add(tax, "ram:TypeCode", "VAT")
        _X.add(tax, "ram:CategoryCode", line.category.value)
        _X.add(tax, "ram:RateApplicablePercent", rate(line.tax_rate))
        summation = _X.add(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _X.add(summation, "ram:LineTotalAmount", amount(line.net_amount))

    agreement = _X.add(trade, "ram:ApplicableHeaderTradeAgreement")
    _X.optional(agreement, "ram:BuyerReference", invoice.buyer_reference)
    _party(_X.add(agreement, "ram:SellerTradeParty"), invoice.seller, seller=True)
    _party(_X.add(agreement, "ram:BuyerTradeParty"), invoice.buyer, seller=False)
    _X.add(trade, "ram:ApplicableHeaderTradeDelivery")
    _settlement(_X.add(trade, "ram:ApplicableHeaderTradeSettlement"), invoice)
    return document(root)


def _date(parent: Element, name: str, day: date) -> None:
    _X.add(_X.add(parent, name), "udt:DateTimeString", ymd(day), format="102")


def _party(element: Element, party: Party, *, seller: bool) -> None:
    _X.add(element, "ram:Name", party.name)
    if party.legal_id or party.trading_name:
        legal = _X.add(element, "ram:SpecifiedLegalOrganization")
        if party.legal_id:
            scheme = {"schemeID": party.legal_id_scheme} if party.legal_id_scheme else {}
            _X.add(legal, "ram:ID", party.legal_id, **scheme)
        _X.optional(legal, "ram:TradingBusinessName", party.trading_name)
    if party.phone or party.email:
        contact = _X.add(element, "ram:DefinedTradeContact")
        if party.phone:
            phone = _X.add(contact, "ram:TelephoneUniversalCommunication")
            _X.add(phone, "ram:CompleteNumber", party.phone)
        if party.email:
            _X.add(_X.add(contact, "ram:EmailURIUniversalCommunication"), "ram:URIID", party.email)
    address = _X.add(element, "ram:PostalTradeAddress")
    _X.optional(address, "ram:PostcodeCode", party.address.postcode)
    _X.optional(address, "ram:LineOne", party.address.line_one)
    _X.optional(address, "ram:LineTwo", party.address.line_two)
    _X.optional(address, "ram:CityName", party.address.city)
    _X.optional(address, "ram:CountryID", party.address.country_code)
    _X.optional(address, "ram:CountrySubDivisionName", party.address.region)
    if party.electronic_address is not None:
        uri = _X.add(element, "ram:URIUniversalCommunication")
        _X.add(
            uri,
            "ram:URIID",
            party.electronic_address.value,
            schemeID=party.electronic_address.scheme,
        )
    if party.vat_id:
        _X.add(
            _X.add(element, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_id, schemeID="VA"
        )
    if seller and party.tax_registration_id:
        registration = _X.add(element, "ram:SpecifiedTaxRegistration")
        _X.add(registration, "ram:ID", party.tax_registration_id, schemeID="FC")


def _settlement(element: Element, invoice: EInvoice) -> None:
    currency = invoice.currency
    payment = invoice.payment
    if payment is not None:
        _X.add(element, "ram:PaymentReference", payment.remittance)
    _X.add(element, "ram:InvoiceCurrencyCode", currency)
    if payment is not None:
        means = _X.add(element, "ram:SpecifiedTradeSettlementPaymentMeans")
        _X.add(means, "ram:TypeCode", payment.means_code)
        if payment.account_id:
            account = _X.add(means, "ram:PayeePartyCreditorFinancialAccount")
            iban = _IBAN.fullmatch(payment.account_id.replace(" ", ""))
            if iban:
                _X.add(account, "ram:IBANID", iban.group(0))
            _X.optional(account, "ram:AccountName", payment.account_name)
            if not iban:
                _X.add(account, "ram:ProprietaryID", payment.account_id)
        if payment.bank_id:
            bank = _X.add(means, "ram:PayeeSpecifiedCreditorFinancialInstitution")
            _X.add(bank, "ram:BICID", payment.bank_id)
    for group in invoice.breakdown:
        tax = _X.add(element, "ram:ApplicableTradeTax")
        _X.add(tax, "ram:CalculatedAmount", amount(group.tax_amount))
        _X.add(tax, "ram:TypeCode", "VAT")
        if group.category is TaxCategory.EXEMPT:
            _X.optional(tax, "ram:ExemptionReason", group.exemption_reason)
        _X.add(tax, "ram:BasisAmount", amount(group.taxable_amount))
        _X.add(tax, "ram:CategoryCode", group.category.value)
        _X.add(tax, "ram:RateApplicablePercent", rate(group.rate))
    if invoice.period_start and invoice.period_end:
        period = _X.add(element, "ram:BillingSpecifiedPeriod")
        _date(period, "ram:StartDateTime", invoice.period_start)
        _date(period, "ram:EndDateTime", invoice.period_end)
    if invoice.payment_terms or (invoice.due_date and not invoice.is_credit_note):
        terms = _X.add(element, "ram:SpecifiedTradePaymentTerms")
        _X.optional(terms, "ram:Description", invoice.payment_terms)
        if invoice.due_date and not invoice.is_credit_note:
            _date(terms, "ram:DueDateDateTime", invoice.due_date)
    totals = invoice.totals
    summation = _X.add(element, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _X.add(summation, "ram:LineTotalAmount", amount(totals.line_total))
    _X.add(summation, "ram:TaxBasisTotalAmount", amount(totals.tax_exclusive))
    _X.add(summation, "ram:TaxTotalAmount", amount(totals.tax), currencyID=currency)
    _X.add(summation, "ram:GrandTotalAmount", amount(totals.tax_inclusive))
    if totals.prepaid:
        _X.add(summation, "ram:TotalPrepaidAmount", amount(totals.prepaid))
    _X.add(summation, "ram:DuePayableAmount", amount(totals.payable))
    for reference in invoice.preceding:
        cited = _X.add(element, "ram:InvoiceReferencedDocument")
        _X.add(cited, "ram:IssuerAssignedID", reference.number)
        if reference.issue_date:
            issued = _X.add(cited, "ram:FormattedIssueDateTime")
            _X.add(issued, "qdt:DateTimeString", ymd(reference.issue_date), format="102")
