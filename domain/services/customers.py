"""createCustomer, updateCustomer, addContact."""

from __future__ import annotations

from domain.config import BusinessSettings, Settings
from domain.errors import NotFound
from domain.model import validation
from domain.model.access import Viewer, require_staff
from domain.model.commands import ContactData, CustomerData, Unchanged
from domain.model.entities import Contact, Customer
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
    async with db.transaction() as session:
        session.add(customer)
    return customer


async def update_customer(
    db: Database, settings: Settings, viewer: Viewer, customer_id: int, data: CustomerData
) -> Customer:
    require_staff(viewer)
    async with db.transaction() as session:
        customer = await lock_customer(session, customer_id, "id")
        _apply(customer, data, settings.business)
    return customer


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
