"""createCustomer, updateCustomer, addContact.

A customer's currency is what its charges and invoices are in. It can change only while
the customer has no invoice (an issued invoice, or a void one, keeps the currency it was
numbered in); its unbilled charges then follow it, re-taxed in the new minor unit, and the
change is refused if one of them has more decimals than the new currency allows.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.config import BusinessSettings, Settings
from domain.errors import DomainError, ErrorCode, InvalidInput, NotFound
from domain.model import validation
from domain.model.access import Viewer, require_staff
from domain.model.commands import ContactData, CustomerData, Unchanged
from domain.model.entities import Contact, Customer, Invoice, Transaction
from domain.model.money import round_money, tax_amount
from domain.store.database import Database
from domain.store.locking import lock_customer

_ADDRESS_LIMITS = {
    "address_line_1": 200,
    "address_line_2": 200,
    "city": 100,
    "state": 100,
    "zip_code": 20,
    "country": 100,
}


def _apply(customer: Customer, data: CustomerData, business: BusinessSettings) -> None:
    customer.name = validation.required_text("name", data.name, 200)
    if data.language is not None:
        customer.language = validation.language("language", data.language, business.languages)
    elif customer.language is None:
        customer.language = business.default_language
    if data.address is not None:
        for field, limit in _ADDRESS_LIMITS.items():
            value = validation.optional_text(
                f"address.{field}", getattr(data.address, field), limit
            )
            setattr(customer, field, value)
    if not isinstance(data.tax_id, Unchanged):
        customer.tax_id = validation.tax_id("tax_id", data.tax_id)
    if not isinstance(data.electronic_address, Unchanged):
        customer.electronic_address = validation.electronic_address(
            "electronic_address", data.electronic_address
        )
    if not isinstance(data.einvoice_format, Unchanged):
        customer.einvoice_format = data.einvoice_format
    if not isinstance(data.reminders_enabled, Unchanged):
        customer.reminders_enabled = data.reminders_enabled is not False
    elif customer.reminders_enabled is None:
        customer.reminders_enabled = True


async def create_customer(
    db: Database, settings: Settings, viewer: Viewer, data: CustomerData
) -> Customer:
    require_staff(viewer)
    customer = Customer()
    _apply(customer, data, settings.business)
    customer.currency = (
        validation.currency("currency", data.currency)
        if data.currency is not None
        else settings.business.currency_code
    )
    async with db.transaction() as session:
        session.add(customer)
    return customer


async def update_customer(
    db: Database, settings: Settings, viewer: Viewer, customer_id: int, data: CustomerData
) -> Customer:
    require_staff(viewer)
    currency = validation.currency("currency", data.currency) if data.currency else None
    async with db.transaction() as session:
        customer = await lock_customer(session, customer_id, "id")
        _apply(customer, data, settings.business)
        if currency is not None and currency != customer.currency:
            await _change_currency(session, customer, currency)
    return customer


async def _change_currency(session: AsyncSession, customer: Customer, currency: str) -> None:
    invoiced = (
        await session.execute(
            select(Invoice.id, Invoice.number).where(Invoice.customer_id == customer.id).limit(1)
        )
    ).first()
    if invoiced is not None:
        raise DomainError(
            ErrorCode.CURRENCY_IN_USE,
            f"{customer.name} is invoiced in {customer.currency} "
            f"(invoice {invoiced.number or invoiced.id}); "
            "its currency can change only while it has no invoice.",
            "currency",
        )
    unbilled = (
        await session.scalars(
            select(Transaction)
            .where(Transaction.customer_id == customer.id, Transaction.invoice_id.is_(None))
            .with_for_update()
        )
    ).all()
    for charge in unbilled:
        if charge.retail_cost != round_money(charge.retail_cost, currency):
            raise InvalidInput(
                "currency",
                f"The unbilled charge {charge.title!r} costs {charge.retail_cost}, which has "
                f"more decimals than {currency} allows: change or delete it first.",
            )
        charge.tax_amount = tax_amount(charge.retail_cost, charge.tax_percentage, currency)
    customer.currency = currency


async def add_contact(
    db: Database, viewer: Viewer, customer_id: int, data: ContactData
) -> Customer:
    require_staff(viewer)
    contact = Contact(
        customer_id=customer_id,
        name=validation.required_text("name", data.name, 200),
        email=validation.email("email", data.email),
        type=data.type,
    )
    async with db.transaction() as session:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise NotFound("Customer", customer_id, "customer_id")
        session.add(contact)
    return customer
