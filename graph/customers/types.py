"""Customer, Contact, PaymentMethod and Address; their inputs and payload."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, TypeVar

import strawberry
from strawberry.types.unset import UnsetType

from domain.model.commands import (
    ADDRESS_FIELDS,
    UNCHANGED,
    AddressData,
    ContactData,
    CustomerData,
    Unchanged,
)
from domain.model.entities import Contact, Customer, PaymentMethod
from domain.model.enums import EInvoiceFormat
from domain.queries.transactions import unbilled_charges
from graph.context import Info
from graph.enums import ContactType
from graph.errors import UserError
from graph.paging import AFTER, Page

if TYPE_CHECKING:
    from graph.invoices.inputs import InvoiceFilter, InvoiceSort
    from graph.invoices.stats import InvoiceStats
    from graph.invoices.types import InvoiceType
    from graph.transactions.types import TransactionType

_INVOICE_INPUTS = strawberry.lazy("graph.invoices.inputs")
T = TypeVar("T")

TAX_ID = (
    "The customer's VAT number with its country prefix (DE123456789), or its business "
    "number (an ABN: 51824753556): the buyer's identifier on its e-invoices."
)
ELECTRONIC_ADDRESS = (
    "Its Peppol participant id, scheme:id (0151:51824753556 for an ABN, 0088: a GLN). With "
    "it, its UBL invoices are Peppol BIS Billing 3.0."
)
FORMAT = "The e-invoice it receives; null: the configured default (einvoice.default_format)."


@strawberry.type
class Address:
    address_line_1: str | None
    address_line_2: str | None
    city: str | None
    state: str | None
    zip_code: str | None
    country: str | None

    @classmethod
    def from_customer(cls, row: Customer) -> Address | None:
        fields = {name: getattr(row, name) for name in ADDRESS_FIELDS}
        return cls(**fields) if any(fields.values()) else None


@strawberry.type(name="Contact")
class ContactObject:
    id: strawberry.ID
    name: str
    email: str
    type: ContactType

    @classmethod
    def from_row(cls, row: Contact) -> ContactObject:
        return cls(id=strawberry.ID(str(row.id)), name=row.name, email=row.email, type=row.type)


@strawberry.type(name="PaymentMethod")
class PaymentMethodType:
    id: strawberry.ID
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    is_default: bool

    @classmethod
    def from_row(cls, row: PaymentMethod) -> PaymentMethodType:
        return cls(
            id=strawberry.ID(str(row.id)),
            brand=row.brand,
            last4=row.last4,
            exp_month=row.exp_month,
            exp_year=row.exp_year,
            is_default=row.is_default,
        )


@strawberry.type
class CustomerBalance:
    outstanding: Decimal
    overdue: Decimal


@strawberry.type(name="Customer")
class CustomerType:
    id: strawberry.ID
    name: str
    language: str = strawberry.field(
        description="Language code used to pick the invoice template, e.g. en, es, fr."
    )
    address: Address | None
    tax_id: str | None = strawberry.field(description=TAX_ID)
    electronic_address: str | None = strawberry.field(description=ELECTRONIC_ADDRESS)
    e_invoice_format: EInvoiceFormat | None = strawberry.field(description=FORMAT)
    reminders_enabled: bool = strawberry.field(
        description="Whether its late invoices get reminder emails."
    )
    currency: str = strawberry.field(
        description="ISO 4217: what it is billed in; its charges and invoices are in it."
    )
    row_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Customer) -> CustomerType:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            language=row.language,
            address=Address.from_customer(row),
            tax_id=row.tax_id,
            electronic_address=row.electronic_address,
            e_invoice_format=row.einvoice_format,
            reminders_enabled=row.reminders_enabled,
            currency=row.currency,
            row_id=row.id,
        )

    @strawberry.field
    async def contacts(self, info: Info) -> list[ContactObject]:
        rows = await info.context.loaders.contacts.load(self.row_id)
        return [ContactObject.from_row(c) for c in rows]

    @strawberry.field
    async def payment_methods(self, info: Info) -> list[PaymentMethodType]:
        methods = await info.context.loaders.payment_methods.load(self.row_id)
        return [PaymentMethodType.from_row(m) for m in methods]

    @strawberry.field
    async def invoices(
        self,
        info: Info,
        filter: Annotated[InvoiceFilter, _INVOICE_INPUTS] | None = None,
        sort: Annotated[InvoiceSort, _INVOICE_INPUTS] | None = None,
        page: int = 1,
        per_page: int = 25,
        after: Annotated[str | None, AFTER] = None,
    ) -> Page[Annotated[InvoiceType, strawberry.lazy("graph.invoices.types")]]:
        from graph.invoices.queries import invoice_page

        return await invoice_page(
            info, filter, sort, page, per_page, customer_id=self.row_id, after=after
        )

    @strawberry.field
    async def invoice_stats(
        self, info: Info
    ) -> Annotated[InvoiceStats, strawberry.lazy("graph.invoices.stats")]:
        from graph.invoices.stats import stats_of

        stats = await stats_of(info, self.row_id)
        assert stats is not None  # the viewer could see this customer, so its stats too
        return stats

    @strawberry.field(
        description="What it owes: what is still due of its open invoices, and what of that is overdue today."
    )
    async def balance(self, info: Info) -> CustomerBalance:
        found = await info.context.loaders.balances.load(self.row_id)
        return CustomerBalance(outstanding=found.outstanding, overdue=found.overdue)

    @strawberry.field
    async def unbilled_transactions(
        self, info: Info, start_date: date | None = None, end_date: date | None = None
    ) -> list[Annotated[TransactionType, strawberry.lazy("graph.transactions.types")]]:
        from graph.transactions.types import TransactionType

        ctx = info.context
        rows = await unbilled_charges(
            ctx.db, ctx.viewer, ctx.settings.business.zone, self.row_id, start_date, end_date
        )
        return [TransactionType.from_row(row) for row in rows]


@strawberry.input
class AddressInput:
    address_line_1: str | None = None
    address_line_2: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    country: str | None = None


def _kept(value: T | UnsetType) -> T | Unchanged:
    """UNSET (the field left out of the input) keeps what is stored."""
    return UNCHANGED if isinstance(value, UnsetType) else value


@strawberry.input
class CustomerInput:
    name: str
    language: str | None = None
    address: AddressInput | None = None
    tax_id: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"{TAX_ID} Left out: unchanged; null: cleared."
    )
    electronic_address: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"{ELECTRONIC_ADDRESS} Left out: unchanged; null: cleared.",
    )
    e_invoice_format: EInvoiceFormat | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"{FORMAT} Left out: unchanged; null: back to the default.",
    )
    reminders_enabled: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Reminder emails for its late invoices (dunning.reminder_days). Default true; left out: unchanged.",
    )
    currency: str | None = strawberry.field(
        default=None,
        description="ISO 4217 code it is billed in (EUR, JPY, KWD). Default business.currency_code; left out: unchanged. Changes only while it has no invoice (else CURRENCY_IN_USE); its unbilled charges follow.",
    )

    def to_domain(self) -> CustomerData:
        address = None
        if self.address is not None:
            address = AddressData(**{name: getattr(self.address, name) for name in ADDRESS_FIELDS})
        return CustomerData(
            name=self.name,
            language=self.language,
            address=address,
            tax_id=_kept(self.tax_id),
            electronic_address=_kept(self.electronic_address),
            einvoice_format=_kept(self.e_invoice_format),
            reminders_enabled=_kept(self.reminders_enabled),
            currency=self.currency,
        )


@strawberry.input
class ContactInput:
    name: str
    email: str
    type: ContactType

    def to_domain(self) -> ContactData:
        return ContactData(name=self.name, email=self.email, type=self.type)


@strawberry.type
class CustomerPayload:
    customer: CustomerType | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: Customer | None, errors: list[UserError]) -> CustomerPayload:
        return cls(customer=CustomerType.from_row(row) if row else None, errors=errors)
