"""Rows read to be changed: locked for the rest of the unit of work, so that two racing
requests cannot both pay, void or bill the same thing; and rows read again for a replay."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import NotFound
from domain.model.access import Viewer
from domain.model.entities import Customer, Invoice
from domain.store.database import Database


async def lock_invoice(
    session: AsyncSession, viewer: Viewer, invoice_id: int, field: str = "id"
) -> Invoice:
    """The invoice, row-locked for this transaction; NOT_FOUND (naming the input `field`
    that held the id) if the viewer may not see it."""
    invoice = (
        await session.execute(
            select(Invoice)
            .where(Invoice.id == invoice_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if invoice is None or not viewer.can_see_customer(invoice.customer_id):
        raise NotFound("Invoice", invoice_id, field)
    return invoice


async def lock_customer(
    session: AsyncSession, customer_id: int, field: str = "customer_id"
) -> Customer:
    customer = (
        await session.execute(
            select(Customer)
            .where(Customer.id == customer_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if customer is None:
        raise NotFound("Customer", customer_id, field)
    return customer


async def customer_of(session: AsyncSession, invoice: Invoice) -> Customer:
    customer = await session.get(Customer, invoice.customer_id)
    if customer is None:  # a foreign key guarantees it
        raise NotFound("Customer", invoice.customer_id)
    return customer


async def visible_invoice(
    db: Database, viewer: Viewer, invoice_id: int, field: str = "invoice_id"
) -> Invoice:
    """The invoice as it is now, for a viewer who may see it; NOT_FOUND otherwise."""
    async with db.read() as session:
        invoice = await session.get(Invoice, invoice_id)
    if invoice is None or not viewer.can_see_customer(invoice.customer_id):
        raise NotFound("Invoice", invoice_id, field)
    return invoice
