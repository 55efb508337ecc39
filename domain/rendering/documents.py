"""What an invoice document shows, as plain data: built from a stored invoice, from a
preview (a DRAFT), or from a designer's fixture file, and rendered the same way.

A fixture is a document written as a mapping (YAML or JSON); `document_from_mapping` reads
one and `document_to_mapping` writes one (the preview server's `--invoice N`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from domain.model.commands import AddressData
from domain.model.einvoice import ElectronicAddress, InvoiceReference
from domain.model.entities import Customer, Installment, Invoice, InvoiceLine, Transaction
from domain.model.enums import EInvoiceFormat, InvoiceStatus
from domain.model.money import ZERO, is_currency, tax_amount
from domain.model.periods import Period
from domain.model.texts import text


@dataclass(frozen=True)
class Client:
    name: str
    language: str
    address: AddressData = field(default_factory=AddressData)
    # For e-invoices (docs/einvoicing.md): the buyer's VAT or business number, its Peppol
    # participant id ("0151:51824753556"), the account number it quotes (BT-10), and the
    # e-invoice it wants (None: einvoice.default_format).
    tax_id: str | None = None
    electronic_address: str | None = None
    reference: str = ""
    einvoice_format: EInvoiceFormat | None = None


@dataclass(frozen=True)
class Line:
    transaction_id: int
    created: datetime
    title: str
    description: str
    retail_cost: Decimal
    tax_percentage: Decimal
    tax_amount: Decimal
    # Why an untaxed line is exempt (an e-invoice's category E); None: zero rated.
    tax_exemption_reason: str | None = None
    # The invoice a credit corrects (a credit note's reference, BG-3).
    credits: InvoiceReference | None = None


@dataclass(frozen=True)
class PlanStep:
    """One installment of a payment plan, as the documents list it."""

    due_date: date
    amount: Decimal
    amount_paid: Decimal = ZERO


@dataclass(frozen=True)
class InvoiceDocument:
    number: str
    title: str
    issued_at: datetime
    due_date: date
    start_date: date | None
    end_date: date | None
    client: Client
    lines: tuple[Line, ...]
    payment_url: str
    # ISO 4217: what every amount on it is in.
    currency: str
    status: InvoiceStatus = InvoiceStatus.UNPAID
    void: bool = False
    draft: bool = False
    paid_at: datetime | None = None
    payment_method: str | None = None
    invoice_id: int | None = None
    # What its payments brought in so far, and its payment plan (none without one).
    amount_paid: Decimal = ZERO
    installments: tuple[PlanStep, ...] = ()

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax

    @property
    def amount_due(self) -> Decimal:
        """What the customer still owes (nothing once paid, refunded or void)."""
        if self.status is not InvoiceStatus.UNPAID or self.void or self.draft:
            return ZERO
        return self.total - self.amount_paid

    @property
    def subtotal(self) -> Decimal:
        return sum((line.retail_cost for line in self.lines), ZERO)

    def texts(self) -> dict[str, str]:
        """Every piece of text the data puts on the page, by the field it came from (what a
        font must be able to draw)."""
        found = {"title": self.title, "client.name": self.client.name}
        for name, value in vars(self.client.address).items():
            if value:
                found[f"client.address.{name}"] = value
        for index, line in enumerate(self.lines):
            found[f"transactions[{index}].title"] = line.title
            if line.description:
                found[f"transactions[{index}].description"] = line.description
        return found

    @property
    def tax(self) -> Decimal:
        return sum((line.tax_amount for line in self.lines), ZERO)

    @property
    def credited_invoices(self) -> tuple[InvoiceReference, ...]:
        """The invoices this document's credits correct, each once, in line order."""
        return tuple(dict.fromkeys(line.credits for line in self.lines if line.credits))


def client_of(customer: Customer) -> Client:
    return Client(
        name=customer.name,
        language=customer.language,
        address=AddressData(
            customer.address_line_1,
            customer.address_line_2,
            customer.city,
            customer.state,
            customer.zip_code,
            customer.country,
        ),
        tax_id=customer.tax_id,
        electronic_address=customer.electronic_address,
        reference=str(customer.id),
        einvoice_format=customer.einvoice_format,
    )


def line_of(row: InvoiceLine | Transaction, credits: InvoiceReference | None = None) -> Line:
    """A frozen invoice line (its reference frozen with it), or a charge as a draft would
    bill it (`credits`: the invoice its `credits_invoice_id` names)."""
    if isinstance(row, InvoiceLine):
        transaction_id = row.transaction_id
        if row.credited_invoice_number:
            credits = InvoiceReference(row.credited_invoice_number, row.credited_invoice_date)
    else:
        transaction_id = row.id
    return Line(
        transaction_id,
        row.created_at,
        row.title,
        row.description,
        row.retail_cost,
        row.tax_percentage,
        row.tax_amount,
        row.tax_exemption_reason,
        credits,
    )


def invoice_document(
    invoice: Invoice,
    customer: Customer,
    lines: Sequence[Line],
    payment_url: str,
    installments: Sequence[Installment] = (),
) -> InvoiceDocument:
    return InvoiceDocument(
        number=invoice.number or "",
        title=invoice.title,
        issued_at=invoice.created_at,
        due_date=invoice.due_date,
        start_date=invoice.start_date,
        end_date=invoice.end_date,
        client=client_of(customer),
        lines=tuple(lines),
        payment_url=payment_url,
        currency=invoice.currency,
        status=invoice.status,
        void=invoice.void,
        paid_at=invoice.paid_at,
        payment_method=invoice.payment_method.value if invoice.payment_method else None,
        invoice_id=invoice.id,
        amount_paid=invoice.amount_paid,
        installments=tuple(
            PlanStep(part.due_date, part.amount, part.amount_paid) for part in installments
        ),
    )


def draft_document(
    period: Period,
    customer: Customer,
    charges: Sequence[Transaction],
    *,
    issued_at: datetime,
    due: date,
) -> InvoiceDocument:
    """What generate_invoice would issue for these charges, marked as a draft; never
    stored. A draft has no number and no pay link: nobody may pay or cite it."""
    return InvoiceDocument(
        number="",
        title=text(customer.language, "invoice_title", period=period),
        issued_at=issued_at,
        due_date=due,
        start_date=period.start,
        end_date=period.end,
        client=client_of(customer),
        lines=tuple(line_of(charge) for charge in charges),
        payment_url="",
        currency=customer.currency,
        draft=True,
    )


# --- fixtures ------------------------------------------------------------------------


class FixtureError(ValueError):
    """A fixture's data is wrong; the message names the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _ClientIn(_Strict):
    name: str
    language: str | None = None
    address: AddressData = AddressData()
    tax_id: str | None = None
    electronic_address: str | None = None
    reference: str = ""
    einvoice_format: EInvoiceFormat | None = None

    @field_validator("electronic_address")
    @classmethod
    def _scheme_and_id(cls, value: str | None) -> str | None:
        return str(ElectronicAddress.parse(value)) if value else None


class _ReferenceIn(_Strict):
    number: str
    issue_date: date | None = Field(default=None, alias="date")


class _LineIn(_Strict):
    transaction_id: int
    created: datetime
    title: str
    description: str = ""
    retail_cost: Decimal
    tax_percentage: Decimal = ZERO
    tax_amount: Decimal | None = None
    tax_exemption_reason: str | None = None
    credits: _ReferenceIn | None = None


class _PlanStepIn(_Strict):
    due_date: date
    amount: Decimal
    amount_paid: Decimal = ZERO


class _DocumentIn(_Strict):
    number: str
    title: str
    issued_at: datetime = Field(alias="date")
    due_date: date
    start_date: date | None = None
    end_date: date | None = None
    client: _ClientIn
    transactions: list[_LineIn]
    payment_url: str = "https://portal.example.com/invoices/0/pay"
    currency: str | None = None
    status: InvoiceStatus = InvoiceStatus.UNPAID
    amount_paid: Decimal = ZERO
    installments: list[_PlanStepIn] = []
    void: bool = False
    draft: bool = False
    paid_at: datetime | None = None
    payment_method: str | None = None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def document_from_mapping(
    data: Mapping[str, Any], default_language: str, default_currency: str
) -> InvoiceDocument:
    """A document from a fixture (YAML/JSON already parsed), validated field by field."""
    try:
        parsed = _DocumentIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise FixtureError(f"{where}: {first['msg']}") from None
    currency = default_currency
    if parsed.currency is not None:
        currency = parsed.currency.upper()
        if not is_currency(currency):
            raise FixtureError(f"currency: {parsed.currency!r} is not an ISO 4217 currency code")
    return InvoiceDocument(
        number=parsed.number,
        title=parsed.title,
        issued_at=_aware(parsed.issued_at),
        due_date=parsed.due_date,
        start_date=parsed.start_date,
        end_date=parsed.end_date,
        client=Client(
            parsed.client.name,
            parsed.client.language or default_language,
            parsed.client.address,
            tax_id=parsed.client.tax_id,
            electronic_address=parsed.client.electronic_address,
            reference=parsed.client.reference,
            einvoice_format=parsed.client.einvoice_format,
        ),
        lines=tuple(
            Line(
                line.transaction_id,
                _aware(line.created),
                line.title,
                line.description,
                line.retail_cost,
                line.tax_percentage,
                line.tax_amount
                if line.tax_amount is not None
                else tax_amount(line.retail_cost, line.tax_percentage, currency),
                line.tax_exemption_reason,
                InvoiceReference(line.credits.number, line.credits.issue_date)
                if line.credits
                else None,
            )
            for line in parsed.transactions
        ),
        payment_url=parsed.payment_url,
        currency=currency,
        status=parsed.status,
        void=parsed.void,
        draft=parsed.draft,
        paid_at=_aware(parsed.paid_at) if parsed.paid_at else None,
        payment_method=parsed.payment_method,
        amount_paid=parsed.amount_paid,
        installments=tuple(
            PlanStep(step.due_date, step.amount, step.amount_paid) for step in parsed.installments
        ),
    )


def document_to_mapping(document: InvoiceDocument) -> dict[str, Any]:
    """The fixture that `document_from_mapping` reads back as this document (JSON-ready)."""
    return {
        "number": document.number,
        "title": document.title,
        "date": document.issued_at.isoformat(),
        "due_date": document.due_date.isoformat(),
        "start_date": document.start_date.isoformat() if document.start_date else None,
        "end_date": document.end_date.isoformat() if document.end_date else None,
        "payment_url": document.payment_url,
        "currency": document.currency,
        "status": document.status.value,
        "void": document.void,
        "draft": document.draft,
        "payment_method": document.payment_method,
        "paid_at": document.paid_at.isoformat() if document.paid_at else None,
        "amount_paid": str(document.amount_paid),
        "installments": [
            {
                "due_date": step.due_date.isoformat(),
                "amount": str(step.amount),
                "amount_paid": str(step.amount_paid),
            }
            for step in document.installments
        ],
        "client": {
            "name": document.client.name,
            "language": document.client.language,
            "address": asdict(document.client.address),
            "tax_id": document.client.tax_id,
            "electronic_address": document.client.electronic_address,
            "reference": document.client.reference,
            "einvoice_format": document.client.einvoice_format,
        },
        "transactions": [
            {
                "transaction_id": line.transaction_id,
                "created": line.created.isoformat(),
                "title": line.title,
                "description": line.description,
                "retail_cost": str(line.retail_cost),
                "tax_percentage": str(line.tax_percentage),
                "tax_amount": str(line.tax_amount),
                "tax_exemption_reason": line.tax_exemption_reason,
                "credits": {
                    "number": line.credits.number,
                    "date": line.credits.issue_date.isoformat()
                    if line.credits.issue_date
                    else None,
                }
                if line.credits
                else None,
            }
            for line in document.lines
        ],
    }
