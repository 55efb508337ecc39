"""The one mapping of our invoice onto EN 16931's semantic model (model/einvoice.py), from
the same InvoiceDocument the PDF is rendered from: a stored invoice, or a designer's
fixture. The CII and UBL writers beside this module write what it returns, nothing more.

Where our data cannot say what the standard needs (a country name no language knows), the
mapping leaves the term out and says why, as a rule failure of its own (CRM-...), beside
the standard's rule that will then fail too.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.config import SellerSettings, Settings
from domain.model.countries import country_code
from domain.model.einvoice import (
    DocumentType,
    EInvoice,
    ElectronicAddress,
    Line,
    Party,
    PaymentInstructions,
    PostalAddress,
    document_totals,
    has_country_prefix,
    tax_breakdown,
    tax_category,
)
from domain.model.money import ZERO
from domain.model.periods import local_day
from domain.model.texts import text
from domain.ports import RuleFailure
from domain.rendering.documents import Client, InvoiceDocument


@dataclass(frozen=True)
class Mapped:
    invoice: EInvoice
    # Our own findings about the data (CRM-...): what the standard needs and we lack.
    problems: tuple[RuleFailure, ...] = ()


def en16931(document: InvoiceDocument, settings: Settings) -> Mapped:
    """The e-invoice `document` is: an invoice (380), or a credit note (381) when its total
    is below zero, with every amount's sign turned round."""
    credit_note = document.subtotal + document.tax < 0
    sign = Decimal(-1) if credit_note else Decimal(1)
    problems: list[RuleFailure] = []
    if document.draft or not document.number:
        problems.append(
            RuleFailure(
                "CRM-DRAFT",
                "fatal",
                "number",
                "A draft is not an invoice yet: it has no number. Generate it to issue its e-invoice.",
            )
        )
    lines = tuple(
        Line(
            id=str(position),
            name=line.title,
            description=line.description or None,
            net_amount=sign * line.retail_cost,
            tax_rate=line.tax_percentage,
            tax_amount=sign * line.tax_amount,
            category=tax_category(line.tax_percentage, line.tax_exemption_reason),
            exemption_reason=line.tax_exemption_reason if line.tax_percentage == 0 else None,
        )
        for position, line in enumerate(document.lines, start=1)
    )
    breakdown = tax_breakdown(lines)
    language = document.client.language
    if credit_note:
        terms = text(language, "einvoice_credit_terms")
    else:
        terms = text(language, "einvoice_terms", due=document.due_date, number=document.number)
        if document.payment_url:
            terms += " " + text(language, "einvoice_pay_online", pay_url=document.payment_url)
    invoice = EInvoice(
        number=document.number,
        issue_date=local_day(document.issued_at, settings.business.zone),
        type_code=DocumentType.CREDIT_NOTE if credit_note else DocumentType.INVOICE,
        currency=document.currency,
        seller=_seller(settings),
        buyer=_buyer(document.client, problems),
        lines=lines,
        breakdown=breakdown,
        # What was paid of an invoice (none of a credit note: its funds are returned whole).
        totals=document_totals(lines, breakdown, ZERO if credit_note else document.amount_paid),
        due_date=document.due_date,
        buyer_reference=document.client.reference or None,
        period_start=document.start_date,
        period_end=document.end_date,
        preceding=document.credited_invoices,
        payment=None if credit_note else _payment(settings.business.seller, document.number),
        payment_terms=terms,
    )
    return Mapped(invoice, tuple(problems))


def _seller(settings: Settings) -> Party:
    business = settings.business
    seller = business.seller
    return Party(
        name=seller.legal_name or business.name,
        trading_name=business.name if business.name != seller.legal_name else None,
        address=PostalAddress(
            line_one=seller.street or None,
            line_two=seller.additional_street or None,
            city=seller.city or None,
            postcode=seller.postcode or None,
            region=seller.region or None,
            country_code=seller.country_code,
        ),
        legal_id=seller.legal_registration_id or None,
        legal_id_scheme=seller.legal_registration_scheme or None,
        vat_id=seller.vat_id or None,
        tax_registration_id=seller.tax_registration_id or None,
        electronic_address=(
            ElectronicAddress.parse(seller.electronic_address)
            if seller.electronic_address
            else None
        ),
        email=business.email or None,
        phone=business.phone or None,
    )


def _buyer(client: Client, problems: list[RuleFailure]) -> Party:
    address = client.address
    code = country_code(address.country)
    if code is None:
        said = f"{address.country!r} is not a country name we know" if address.country else "none"
        problems.append(
            RuleFailure(
                "CRM-BUYER-COUNTRY",
                "fatal",
                "client.address.country",
                f"The customer's country ({said}): give its name (Australia, España) or its "
                "ISO 3166 code (AU, ES).",
            )
        )
    tax_id = (client.tax_id or "").replace(" ", "") or None
    is_vat = tax_id is not None and has_country_prefix(tax_id)
    electronic = None
    if client.electronic_address:
        try:
            electronic = ElectronicAddress.parse(client.electronic_address)
        except ValueError as error:
            problems.append(
                RuleFailure("CRM-BUYER-ADDRESS", "fatal", "client.electronic_address", str(error))
            )
    # A business number that is also its electronic address's id is in that scheme.
    scheme = electronic.scheme if electronic and electronic.value == tax_id else None
    return Party(
        name=client.name,
        address=PostalAddress(
            line_one=address.address_line_1 or None,
            line_two=address.address_line_2 or None,
            city=address.city or None,
            postcode=address.zip_code or None,
            region=address.state or None,
            country_code=code,
        ),
        vat_id=tax_id if is_vat else None,
        legal_id=None if is_vat else tax_id,
        legal_id_scheme=None if is_vat else scheme,
        electronic_address=electronic,
    )


def _payment(seller: SellerSettings, number: str) -> PaymentInstructions | None:
    bank = seller.bank
    if not bank.account_id:
        return None
    return PaymentInstructions(
        means_code=bank.payment_means_code,
        remittance=number,
        account_id=bank.account_id,
        account_name=bank.account_name or None,
        bank_id=bank.bank_id or None,
    )
