from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.models import Contact, ContactType, Customer, PaymentMethod
from graph.context import Info
from graph.errors import UserError

if TYPE_CHECKING:
    from graph.types.invoices import InvoiceFilter, InvoicePage, InvoiceSort
    from graph.types.stats import InvoiceStats
    from graph.types.transactions import TransactionType

_INVOICES = strawberry.lazy("graph.types.invoices")

ContactTypeEnum = strawberry.enum(ContactType, name="ContactType")


ADDRESS_FIELDS = ("address_line_1", "address_line_2", "city", "state", "zip_code", "country")


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
    type: ContactTypeEnum  # type: ignore[valid-type]

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


@strawberry.type(name="Customer")
class CustomerType:
    id: strawberry.ID
    name: str
    language: str = strawberry.field(
        description="Language code used to pick the invoice template, e.g. en, es, fr."
    )
    address: Address | None
    row_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Customer) -> CustomerType:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            language=row.language,
            address=Address.from_customer(row),
            row_id=row.id,
        )

    @strawberry.field
    async def contacts(self, info: Info) -> list[ContactObject]:
        return [
            ContactObject.from_row(c) for c in await info.context.loaders.contacts.load(self.row_id)
        ]

    @strawberry.field
    async def payment_methods(self, info: Info) -> list[PaymentMethodType]:
        methods = await info.context.loaders.payment_methods.load(self.row_id)
        return [PaymentMethodType.from_row(m) for m in methods]

    @strawberry.field
    async def invoices(
        self,
        info: Info,
        filter: Annotated[InvoiceFilter, _INVOICES] | None = None,
        sort: Annotated[InvoiceSort, _INVOICES] | None = None,
        page: int = 1,
        per_page: int = 25,
    ) -> Annotated[InvoicePage, _INVOICES]:
        from graph.types.invoices import resolve_invoice_page

        return await resolve_invoice_page(
            info, filter, sort, page, per_page, customer_id=self.row_id
        )

    @strawberry.field
    async def invoice_stats(
        self, info: Info
    ) -> Annotated[InvoiceStats, strawberry.lazy("graph.types.stats")]:
        from graph.types.stats import resolve_invoice_stats

        stats = await resolve_invoice_stats(info, self.row_id)
        assert stats is not None  # the viewer could see this customer, so its stats too
        return stats

    @strawberry.field
    async def unbilled_transactions(
        self, info: Info, start_date: date | None = None, end_date: date | None = None
    ) -> list[Annotated[TransactionType, strawberry.lazy("graph.types.transactions")]]:
        from domain.transactions import unbilled_charges
        from graph.types.transactions import TransactionType

        rows = await unbilled_charges(
            info.context.db,
            info.context.viewer,
            info.context.settings.business.zone,
            self.row_id,
            start_date,
            end_date,
        )
        return [TransactionType.from_row(row) for row in rows]


@strawberry.type
class CustomerPage:
    items: list[CustomerType]
    total_count: int
    page: int
    per_page: int
    total_pages: int


@strawberry.input
class AddressInput:
    address_line_1: str | None = None
    address_line_2: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    country: str | None = None


@strawberry.input
class CustomerInput:
    name: str
    language: str | None = None
    address: AddressInput | None = None


@strawberry.input
class ContactInput:
    name: str
    email: str
    type: ContactTypeEnum  # type: ignore[valid-type]


@strawberry.type
class CustomerPayload:
    customer: CustomerType | None
    errors: list[UserError]
