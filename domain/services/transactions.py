"""createTransaction, updateTransaction, deleteTransaction: the charges invoices bill.

Only CHARGE transactions are made here; PAYMENT and REFUND transactions come from the
payment flows. A billed transaction is frozen: void its invoice first (Workflow 7).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import DomainError, ErrorCode, InvalidInput, NotFound
from domain.model import validation
from domain.model.access import Viewer, require_staff
from domain.model.commands import TransactionChanges, TransactionData
from domain.model.entities import Customer, Invoice, Product, Transaction
from domain.model.enums import TransactionKind
from domain.model.money import ZERO, tax_amount
from domain.store.database import Database

MAX_DESCRIPTION = 5000


def _as_utc(moment: datetime) -> datetime:
    # A time sent without an offset is taken as UTC, the API's stated zone.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def create_transaction(db: Database, viewer: Viewer, data: TransactionData) -> Transaction:
    require_staff(viewer)
    async with db.transaction() as session:
        currency = await _currency_of(session, data.customer_id, lock=True)
        product = None
        if data.product_id is not None:
            product = await session.get(Product, data.product_id)
            if product is None:
                raise NotFound("Product", data.product_id, "product_id")
        title = validation.required_text("title", data.title, 200)
        cost = validation.amount("retail_cost", data.retail_cost, currency)
        reason = data.tax_exemption_reason
        if data.tax_percentage is not None:
            percent = validation.percentage("tax_percentage", data.tax_percentage)
        else:
            percent = product.tax_percentage if product else ZERO
            if reason is None and product is not None:
                reason = product.tax_exemption_reason
        if data.credits_invoice_id is not None:
            await _ensure_creditable(session, data, cost)
        row = Transaction(
            kind=TransactionKind.CHARGE,
            customer_id=data.customer_id,
            product_id=data.product_id,
            title=title,
            description=validation.bounded_text(
                "description", (data.description or "").strip(), MAX_DESCRIPTION
            ),
            created_at=_as_utc(data.created_at) if data.created_at else db.now(),
            retail_cost=cost,
            tax_percentage=percent,
            tax_amount=tax_amount(cost, percent, currency),
            tax_exemption_reason=validation.exemption_reason(
                "tax_exemption_reason", reason, percent
            ),
            credits_invoice_id=data.credits_invoice_id,
        )
        session.add(row)
    return row


async def _currency_of(session: AsyncSession, customer_id: int, *, lock: bool) -> str:
    """The customer's currency, which its charges are in.

    A new charge reads it under a shared lock of the customer, so that a change of the
    currency (which re-checks the unbilled charges under the customer's lock) either sees
    this charge or is seen by it. A charge being changed is locked already, and the
    currency change locks it too: reading the customer then without a lock keeps the
    lock order of generate (customer, then charges) from being inverted."""
    query = select(Customer.currency).where(Customer.id == customer_id)
    currency = await session.scalar(query.with_for_update(read=True) if lock else query)
    if currency is None:
        raise NotFound("Customer", customer_id, "customer_id")
    return currency


async def _ensure_creditable(session: AsyncSession, data: TransactionData, cost: Decimal) -> None:
    """A credit may cite the invoice it corrects: an issued invoice of the same customer."""
    field = "credits_invoice_id"
    if cost >= 0:
        raise InvalidInput(field, "Only a credit (a negative amount) corrects an invoice.")
    invoice = await session.get(Invoice, data.credits_invoice_id)
    if invoice is None or invoice.customer_id != data.customer_id:
        raise NotFound("Invoice", data.credits_invoice_id, field)
    if invoice.void:
        raise InvalidInput(field, f"Invoice {invoice.number} is void: there is nothing to correct.")


async def _unbilled_for_change(session: AsyncSession, transaction_id: int) -> Transaction:
    row = (
        await session.execute(
            select(Transaction).where(Transaction.id == transaction_id).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("Transaction", transaction_id, "id")
    if row.invoice_id is not None:
        raise DomainError(
            ErrorCode.TRANSACTION_BILLED,
            f"Transaction {transaction_id} is billed on invoice {row.invoice_id}; "
            "void that invoice first to change it.",
            "id",
        )
    if row.kind is not TransactionKind.CHARGE:
        raise InvalidInput("id", "Payments and refunds are changed only by the payment flows.")
    return row


async def update_transaction(
    db: Database,
    viewer: Viewer,
    transaction_id: int,
    changes: TransactionChanges,
) -> Transaction:
    require_staff(viewer)
    async with db.transaction() as session:
        row = await _unbilled_for_change(session, transaction_id)
        currency = await _currency_of(session, row.customer_id, lock=False)
        if changes.title is not None:
            row.title = validation.required_text("title", changes.title, 200)
        if changes.description is not None:
            row.description = validation.bounded_text(
                "description", changes.description.strip(), MAX_DESCRIPTION
            )
        if changes.retail_cost is not None:
            row.retail_cost = validation.amount("retail_cost", changes.retail_cost, currency)
        if changes.tax_percentage is not None:
            row.tax_percentage = validation.percentage("tax_percentage", changes.tax_percentage)
            if changes.tax_exemption_reason is None and row.tax_percentage != 0:
                row.tax_exemption_reason = None  # a taxed charge is not exempt
        if changes.tax_exemption_reason is not None:
            row.tax_exemption_reason = validation.exemption_reason(
                "tax_exemption_reason", changes.tax_exemption_reason, row.tax_percentage
            )
        if row.credits_invoice_id is not None and row.retail_cost >= 0:
            raise InvalidInput(
                "retail_cost", "This credit corrects an invoice: its amount must stay negative."
            )
        row.tax_amount = tax_amount(row.retail_cost, row.tax_percentage, currency)
    return row


async def delete_transaction(db: Database, viewer: Viewer, transaction_id: int) -> int:
    require_staff(viewer)
    async with db.transaction() as session:
        row = await _unbilled_for_change(session, transaction_id)
        await session.delete(row)
    return transaction_id
