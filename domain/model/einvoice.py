"""An invoice as EN 16931 (the European e-invoicing standard) models it: business terms
numbered BT-n, grouped in business groups BG-n, and the standard's calculation rules.

This is the semantic model only; rendering/einvoice/ maps our invoice onto it and writes
it out as UN/CEFACT CII (Factur-X, ZUGFeRD) or OASIS UBL 2.1 (Peppol BIS Billing 3.0).
Amounts here are exactly what the invoice bills: tax is rounded half up per line
(model/money.py) and every total is a sum of rounded amounts, which is what the standard's
rules BR-CO-10..BR-CO-17 check (BR-CO-17 allows one unit either way per VAT category).

A credit note (our invoice whose total is below zero) is document type 381 with every
amount's sign turned round: the standard reads a credit note's positive amounts as
credited to the buyer.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.model.countries import country_codes
from domain.model.enums import EInvoiceFormat
from domain.model.money import ZERO


class Syntax(enum.StrEnum):
    """The two XML syntaxes EN 16931 is bound to."""

    CII = "cii"
    UBL = "ubl"


class DocumentType(enum.StrEnum):
    """BT-3, from UNTDID 1001."""

    INVOICE = "380"
    CREDIT_NOTE = "381"


class TaxCategory(enum.StrEnum):
    """BT-151 / BT-118, from UNTDID 5305: the categories our invoices use."""

    STANDARD = "S"
    ZERO_RATED = "Z"
    EXEMPT = "E"


def tax_category(rate: Decimal, exemption_reason: str | None) -> TaxCategory:
    """A line's category: taxed at a rate above zero is standard rated; untaxed is exempt
    when the line says why (BT-120 needs the reason), zero rated otherwise."""
    if rate > 0:
        return TaxCategory.STANDARD
    return TaxCategory.EXEMPT if exemption_reason else TaxCategory.ZERO_RATED


_ELECTRONIC_ADDRESS = re.compile(r"(?P<scheme>[0-9]{4}|EM):(?P<value>\S(?:.*\S)?)")


@dataclass(frozen=True)
class ElectronicAddress:
    """BT-34 / BT-49 with its scheme (BT-34-1 / BT-49-1): a Peppol participant id written
    `scheme:id`, the scheme an ISO 6523 ICD code from the EAS list (0151 is an Australian
    ABN, 0088 a GLN, 9930 a German VAT number), or EM for an email address."""

    scheme: str
    value: str

    @classmethod
    def parse(cls, text: str) -> ElectronicAddress:
        found = _ELECTRONIC_ADDRESS.fullmatch(text.strip())
        if found is None or len(text) > 200:
            raise ValueError(
                f"{text[:40]!r} is not an electronic address: write it as scheme:id, e.g. "
                "0151:51824753556 (an ABN), 0088:5790000435975 (a GLN) or EM:ap@example.com"
            )
        return cls(found["scheme"], found["value"])

    def __str__(self) -> str:
        return f"{self.scheme}:{self.value}"


def has_country_prefix(identifier: str) -> bool:
    """A VAT identifier (BT-31, BT-48) starts with its country's ISO 3166 code, or EL for
    Greece (BR-CO-09); a business number (an ABN) does not."""
    prefix = identifier[:2]
    return (
        re.fullmatch(r"[A-Z]{2}[0-9A-Za-z+*.]{2,}", identifier) is not None
        and (prefix in country_codes() or prefix == "EL")
        and any(character.isdigit() for character in identifier[2:])
    )


@dataclass(frozen=True)
class PostalAddress:
    """BG-5 (seller) / BG-8 (buyer)."""

    line_one: str | None  # BT-35 / BT-50
    line_two: str | None  # BT-36 / BT-51
    city: str | None  # BT-37 / BT-52
    postcode: str | None  # BT-38 / BT-53
    region: str | None  # BT-39 / BT-54
    country_code: str | None  # BT-40 / BT-55, ISO 3166-1 alpha-2


@dataclass(frozen=True)
class Party:
    """BG-4 (seller) / BG-7 (buyer)."""

    name: str  # BT-27 / BT-44
    address: PostalAddress
    trading_name: str | None = None  # BT-28 / BT-45
    legal_id: str | None = None  # BT-30 / BT-47
    legal_id_scheme: str | None = None  # BT-30-1 / BT-47-1
    vat_id: str | None = None  # BT-31 / BT-48
    tax_registration_id: str | None = None  # BT-32 (seller only)
    electronic_address: ElectronicAddress | None = None  # BT-34 / BT-49
    email: str | None = None  # BT-43 (seller contact)
    phone: str | None = None  # BT-42


@dataclass(frozen=True)
class PaymentInstructions:
    """BG-16."""

    means_code: str  # BT-81, UNTDID 4461 (30 credit transfer, 58 SEPA credit transfer)
    remittance: str  # BT-83: what the payer quotes, the invoice number
    account_id: str | None = None  # BT-84
    account_name: str | None = None  # BT-85
    bank_id: str | None = None  # BT-86 (a BIC, or a national bank code such as a BSB)


@dataclass(frozen=True)
class InvoiceReference:
    """BG-3: an invoice this document corrects (a credit note's reference)."""

    number: str  # BT-25
    issue_date: date | None  # BT-26


@dataclass(frozen=True)
class Line:
    """BG-25. Quantity is one unit (C62) of each charge; a credit line is minus one unit
    at its (never negative, BR-27) price."""

    id: str  # BT-126
    name: str  # BT-153
    description: str | None  # BT-154
    net_amount: Decimal  # BT-131
    tax_rate: Decimal  # BT-152
    tax_amount: Decimal  # the line's rounded tax, summed into its category's BT-117
    category: TaxCategory  # BT-151
    exemption_reason: str | None = None  # grouped into BT-120

    @property
    def quantity(self) -> Decimal:  # BT-129
        return Decimal(-1) if self.net_amount < 0 else Decimal(1)

    @property
    def price(self) -> Decimal:  # BT-146
        return abs(self.net_amount)

    unit_code = "C62"  # BT-130: "one", UN/ECE Recommendation 20


@dataclass(frozen=True)
class TaxBreakdown:
    """BG-23: one per category and rate."""

    category: TaxCategory  # BT-118
    rate: Decimal  # BT-119
    taxable_amount: Decimal  # BT-116
    tax_amount: Decimal  # BT-117
    exemption_reason: str | None = None  # BT-120


@dataclass(frozen=True)
class Totals:
    """BG-22."""

    line_total: Decimal  # BT-106
    tax_exclusive: Decimal  # BT-109
    tax: Decimal  # BT-110
    tax_inclusive: Decimal  # BT-112
    prepaid: Decimal  # BT-113
    payable: Decimal  # BT-115


@dataclass(frozen=True)
class EInvoice:
    number: str  # BT-1
    issue_date: date  # BT-2
    type_code: DocumentType  # BT-3
    currency: str  # BT-5
    seller: Party  # BG-4
    buyer: Party  # BG-7
    lines: tuple[Line, ...]  # BG-25
    breakdown: tuple[TaxBreakdown, ...]  # BG-23
    totals: Totals  # BG-22
    due_date: date | None = None  # BT-9
    buyer_reference: str | None = None  # BT-10
    period_start: date | None = None  # BT-73
    period_end: date | None = None  # BT-74
    notes: tuple[str, ...] = ()  # BT-22
    preceding: tuple[InvoiceReference, ...] = ()  # BG-3
    payment: PaymentInstructions | None = None  # BG-16
    payment_terms: str | None = None  # BT-20

    @property
    def is_credit_note(self) -> bool:
        return self.type_code is DocumentType.CREDIT_NOTE


def tax_breakdown(lines: Sequence[Line]) -> tuple[TaxBreakdown, ...]:
    """BG-23 from the lines: one group per category and rate, its tax the sum of its lines'
    rounded taxes. Exempt lines share one group (BR-E-01), their reasons joined."""
    groups: dict[tuple[TaxCategory, Decimal], list[Line]] = {}
    for line in lines:
        groups.setdefault((line.category, line.tax_rate.normalize()), []).append(line)
    breakdown = []
    for (category, rate), members in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1])):
        reasons = dict.fromkeys(m.exemption_reason for m in members if m.exemption_reason)
        breakdown.append(
            TaxBreakdown(
                category=category,
                rate=rate,
                taxable_amount=sum((m.net_amount for m in members), ZERO),
                tax_amount=sum((m.tax_amount for m in members), ZERO),
                exemption_reason="; ".join(reasons) or None,
            )
        )
    return tuple(breakdown)


def document_totals(
    lines: Sequence[Line], breakdown: Sequence[TaxBreakdown], prepaid: Decimal = ZERO
) -> Totals:
    """BG-22: sums of what the lines and the breakdown hold (BR-CO-10, -13, -14, -15, -16);
    `prepaid` is what the customer paid already (BT-113), and the amount due for payment
    (BT-115) the rest."""
    line_total = sum((line.net_amount for line in lines), ZERO)
    tax = sum((group.tax_amount for group in breakdown), ZERO)
    return Totals(
        line_total=line_total,
        tax_exclusive=line_total,
        tax=tax,
        tax_inclusive=line_total + tax,
        prepaid=prepaid,
        payable=line_total + tax - prepaid,
    )


@dataclass(frozen=True)
class BrokenRule:
    """One rule an e-invoice breaks, as `Invoice.eInvoice` reports it."""

    rule: str
    location: str  # an XPath in the XML, or the field at fault
    text: str


@dataclass(frozen=True)
class EInvoiceStatus:
    """What `Invoice.eInvoice` answers: its format; where it is fetched (the UBL download,
    or the Factur-X PDF; None while it breaks a rule, since it is not handed out then);
    whether it passes the rules, claims Peppol, and what it breaks."""

    format: EInvoiceFormat
    url: str | None
    valid: bool
    peppol: bool
    errors: tuple[BrokenRule, ...]
    warnings: tuple[BrokenRule, ...]
