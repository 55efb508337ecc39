"""What an invoice document shows, as plain data: built from a stored invoice, from a
preview (a DRAFT), or from a designer's fixture file, and rendered the same way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.config import Settings
from domain.customers import AddressData as Address
from domain.invoices import pay_url
from domain.models import Customer, Invoice, InvoiceLine, InvoiceStatus
from domain.money import ZERO

if TYPE_CHECKING:
    from domain.billing import Preview


@dataclass(frozen=True)
class Client:
    name: str
    language: str
    address: Address = field(default_factory=Address)


@dataclass(frozen=True)
class Line:
    transaction_id: int
    created: datetime
    title: str
    description: str
    retail_cost: Decimal
    tax_percentage: Decimal
    tax_amount: Decimal


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
    status: InvoiceStatus = InvoiceStatus.UNPAID
    void: bool = False
    draft: bool = False
    paid_at: datetime | None = None
    payment_method: str | None = None
    invoice_id: int | None = None

    @property
    def subtotal(self) -> Decimal:
        return sum((line.retail_cost for line in self.lines), ZERO)

    @property
    def tax(self) -> Decimal:
        return sum((line.tax_amount for line in self.lines), ZERO)


def client_of(customer: Customer) -> Client:
    return Client(
        name=customer.name,
        language=customer.language,
        address=Address(
            customer.address_line_1,
            customer.address_line_2,
            customer.city,
            customer.state,
            customer.zip_code,
            customer.country,
        ),
    )


def line_of(row: InvoiceLine) -> Line:
    return Line(
        row.transaction_id,
        row.created_at,
        row.title,
        row.description,
        row.retail_cost,
        row.tax_percentage,
        row.tax_amount,
    )


async def invoice_lines(session: AsyncSession, invoice_id: int) -> tuple[Line, ...]:
    rows = await session.execute(
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice_id)
        .order_by(InvoiceLine.position)
    )
    return tuple(line_of(row) for row in rows.scalars())


def invoice_document(
    invoice: Invoice, customer: Customer, lines: tuple[Line, ...], settings: Settings
) -> InvoiceDocument:
    return InvoiceDocument(
        number=invoice.number or "",
        title=invoice.title,
        issued_at=invoice.created_at,
        due_date=invoice.due_date,
        start_date=invoice.start_date,
        end_date=invoice.end_date,
        client=client_of(customer),
        lines=lines,
        payment_url=pay_url(settings, invoice),
        status=invoice.status,
        void=invoice.void,
        paid_at=invoice.paid_at,
        payment_method=invoice.payment_method.value if invoice.payment_method else None,
        invoice_id=invoice.id,
    )


class FixtureError(ValueError):
    """A fixture's data is wrong; the message names the field."""


def document_from_mapping(data: Mapping[str, Any], settings: Settings) -> InvoiceDocument:
    """A document from a fixture (YAML/JSON already parsed), validated field by field."""
    from pydantic import BaseModel, ConfigDict, ValidationError

    class _Strict(BaseModel):
        model_config = ConfigDict(extra="forbid")

    class AddressIn(_Strict):
        address_line_1: str | None = None
        address_line_2: str | None = None
        city: str | None = None
        state: str | None = None
        zip_code: str | None = None
        country: str | None = None

    class ClientIn(_Strict):
        name: str
        language: str = settings.business.default_language
        address: AddressIn = AddressIn()

    class LineIn(_Strict):
        transaction_id: int
        created: datetime
        title: str
        description: str = ""
        retail_cost: Decimal
        tax_percentage: Decimal = ZERO
        tax_amount: Decimal | None = None

    class DocumentIn(_Strict):
        number: str
        title: str
        date: datetime
        due_date: date
        start_date: date | None = None
        end_date: date | None = None
        client: ClientIn
        transactions: list[LineIn]
        payment_url: str = "https://portal.example.com/invoices/0/pay"
        status: InvoiceStatus = InvoiceStatus.UNPAID
        void: bool = False
        draft: bool = False
        paid_at: datetime | None = None
        payment_method: str | None = None

    from domain.money import tax_amount

    try:
        parsed = DocumentIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise FixtureError(f"{where}: {first['msg']}") from None

    def aware(moment: datetime) -> datetime:
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    return InvoiceDocument(
        number=parsed.number,
        title=parsed.title,
        issued_at=aware(parsed.date),
        due_date=parsed.due_date,
        start_date=parsed.start_date,
        end_date=parsed.end_date,
        client=Client(
            parsed.client.name,
            parsed.client.language,
            Address(**parsed.client.address.model_dump()),
        ),
        lines=tuple(
            Line(
                line.transaction_id,
                aware(line.created),
                line.title,
                line.description,
                line.retail_cost,
                line.tax_percentage,
                line.tax_amount
                if line.tax_amount is not None
                else tax_amount(line.retail_cost, line.tax_percentage),
            )
            for line in parsed.transactions
        ),
        payment_url=parsed.payment_url,
        status=parsed.status,
        void=parsed.void,
        draft=parsed.draft,
        paid_at=aware(parsed.paid_at) if parsed.paid_at else None,
        payment_method=parsed.payment_method,
    )


def draft_document(preview: Preview, customer: Customer, settings: Settings) -> InvoiceDocument:
    """What generate_invoice would issue for this preview, marked DRAFT; never stored."""
    from domain.billing import default_title
    from domain.periods import today

    return InvoiceDocument(
        number="DRAFT",
        title=default_title(customer.language, preview.period),
        issued_at=datetime.now(UTC),
        due_date=today(settings.business.zone),
        start_date=preview.period.start,
        end_date=preview.period.end,
        client=client_of(customer),
        lines=tuple(
            Line(
                t.id,
                t.created_at,
                t.title,
                t.description,
                t.retail_cost,
                t.tax_percentage,
                t.tax_amount,
            )
            for t in preview.included
        ),
        payment_url=settings.invoice.pay_url_template.format(id=0, number="DRAFT"),
        draft=True,
    )
