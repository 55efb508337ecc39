"""customer, customers: one customer, or a page of them by name."""

from __future__ import annotations

from sqlalchemy import select

from domain.model import validation
from domain.model.access import Viewer
from domain.model.entities import Customer
from domain.model.paging import Page, PageRequest
from domain.store.cursors import Keyset
from domain.store.database import Database
from domain.store.pagination import fetch_page
from domain.store.text_search import contains

BY_NAME = Keyset("customers.name", Customer.name, Customer.id, descending=False)


async def get_customer(db: Database, viewer: Viewer, customer_id: int) -> Customer | None:
    if not viewer.can_see_customer(customer_id):
        return None
    async with db.read() as session:
        return await session.get(Customer, customer_id)


async def list_customers(
    db: Database, viewer: Viewer, search: str | None, request: PageRequest
) -> Page[Customer]:
    query = select(Customer).order_by(Customer.name, Customer.id)  # as BY_NAME
    if viewer.customer_scope is not None:
        query = query.where(Customer.id == viewer.customer_scope)
    term = validation.search_term(search)
    if term:
        query = query.where(contains(Customer.name, term))
    async with db.read() as session:
        return await fetch_page(session, query, request, BY_NAME)
