"""Fresh work for the benchmarks: a customer with unbilled charges to generate from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.config import Settings
from domain.model.access import SYSTEM
from domain.model.commands import CustomerData
from domain.model.entities import Transaction
from domain.model.enums import TransactionKind
from domain.services.customers import create_customer
from domain.store.database import Database


async def customer_with_charges(db: Database, count: int, name: str) -> int:
    """A new customer with `count` charges of the last hours, none billed yet."""
    customer = await create_customer(db, Settings(), SYSTEM, CustomerData(name))
    now = datetime.now(UTC)
    async with db.transaction() as session:
        session.add_all(
            Transaction(
                kind=TransactionKind.CHARGE,
                customer_id=customer.id,
                title=f"Charge {i}",
                description="",
                created_at=now - timedelta(minutes=i),
                retail_cost=Decimal("10.00"),
                tax_percentage=Decimal("10"),
                tax_amount=Decimal("1.00"),
            )
            for i in range(count)
        )
    return customer.id
