"""Customers, their contacts and saved cards."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from domain import validation
from domain.access import Viewer, require_staff
from domain.config import Settings
from domain.db import Database
from domain.errors import NotFound
from domain.models import Contact, ContactType, Customer, PaymentMethod
from domain.pagination import Page, PageRequest, contains_pattern, fetch_page


@dataclass(frozen=True)
class AddressData:
    address_line_1: str | None = None
    address_line_2: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class CustomerData:
    name: str
    language: str | None = None
    address: AddressData | None = None


@dataclass(frozen=True)
class ContactData:
    name: str
    email: str
    type: ContactType


_ADDRESS_LIMITS = {
    "address_line_1": 200,
    "address_line_2": 200,
    "city": 100,
    "state": 100,
    "zip_code": 20,
    "country": 100,
}


def _apply(customer: Customer, data: CustomerData, default_language: str) -> None:
    customer.name = validation.required_text("name", data.name, 200)
    if data.language is not None:
        customer.language = validation.language("language", data.language)
    elif customer.language is None:
        customer.language = default_language
    if data.address is not None:
        for field, limit in _ADDRESS_LIMITS.items():
            value = validation.optional_text(
                f"address.{field}", getattr(data.address, field), limit
            )
            setattr(customer, field, value)


async def create_customer(
    db: Database, settings: Settings, viewer: Viewer, data: CustomerData
) -> Customer:
    require_staff(viewer)
    customer = Customer()
    _apply(customer, data, settings.business.default_language)
    async with db.transaction() as session:
        session.add(customer)
    return customer


async def update_customer(
    db: Database, settings: Settings, viewer: Viewer, customer_id: int, data: CustomerData
) -> Customer:
    require_staff(viewer)
    async with db.transaction() as session:
        customer = await session.get(Customer, customer_id, with_for_update=True)
        if customer is None:
            raise NotFound("Customer", customer_id, "id")
        _apply(customer, data, settings.business.default_language)
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


async def get_customer(db: Database, viewer: Viewer, customer_id: int) -> Customer | None:
    if not viewer.can_see_customer(customer_id):
        return None
    async with db.read() as session:
        return await session.get(Customer, customer_id)


async def customers_by_id(db: Database, ids: Iterable[int]) -> dict[int, Customer]:
    async with db.read() as session:
        rows = await session.execute(select(Customer).where(Customer.id.in_(set(ids))))
        return {customer.id: customer for customer in rows.scalars()}


async def list_customers(
    db: Database, viewer: Viewer, search: str | None, request: PageRequest
) -> Page[Customer]:
    query = select(Customer).order_by(Customer.name, Customer.id)
    if viewer.customer_scope is not None:
        query = query.where(Customer.id == viewer.customer_scope)
    if search and search.strip():
        query = query.where(Customer.name.ilike(contains_pattern(search.strip()), escape="\\"))
    async with db.read() as session:
        return await fetch_page(session, query, request)


async def contacts_by_customer(
    db: Database, customer_ids: Iterable[int]
) -> dict[int, list[Contact]]:
    found: dict[int, list[Contact]] = defaultdict(list)
    async with db.read() as session:
        rows = await session.execute(
            select(Contact).where(Contact.customer_id.in_(set(customer_ids))).order_by(Contact.id)
        )
        for contact in rows.scalars():
            found[contact.customer_id].append(contact)
    return found


async def payment_methods_by_customer(
    db: Database, customer_ids: Iterable[int]
) -> dict[int, list[PaymentMethod]]:
    found: dict[int, list[PaymentMethod]] = defaultdict(list)
    async with db.read() as session:
        rows = await session.execute(
            select(PaymentMethod)
            .where(PaymentMethod.customer_id.in_(set(customer_ids)))
            .order_by(PaymentMethod.is_default.desc(), PaymentMethod.id)
        )
        for method in rows.scalars():
            found[method.customer_id].append(method)
    return found
