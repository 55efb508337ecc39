"""Test helpers: a GraphQL client, token minting, small factories, database snapshots."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select

from domain.config import Settings
from domain.model.access import SYSTEM
from domain.model.commands import (
    AddressData,
    ContactData,
    CustomerData,
    ProductData,
    TransactionData,
)
from domain.model.entities import Base, Customer, Product, Transaction
from domain.model.enums import ContactType, Role
from domain.services import customers, products, transactions
from domain.services.tokens import mint_token
from domain.store.database import Database


class Api:
    """Speaks GraphQL over HTTP to the app, as a frontend or an integrator would."""

    def __init__(self, client: httpx.AsyncClient, db: Database) -> None:
        self.client = client
        self.db = db
        self._staff: str | None = None

    async def staff_token(self) -> str:
        if self._staff is None:
            self._staff = (await mint_token(self.db, Role.STAFF, "test staff")).token
        return self._staff

    async def customer_token(self, customer_id: int) -> str:
        return (
            await mint_token(self.db, Role.CUSTOMER, f"portal {customer_id}", customer_id)
        ).token

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """Run as staff unless a token is given; fail on transport or GraphQL errors."""
        response = await self.post(query, variables, token or await self.staff_token())
        assert response.status_code == 200, response.text
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def gql_errors(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> list[dict[str, Any]]:
        """Run a request expected to fail with GraphQL errors; return them."""
        response = await self.post(query, variables, token or await self.staff_token())
        assert response.status_code == 200, response.text
        body = response.json()
        assert body.get("errors"), body
        return body["errors"]


async def make_customer(
    db: Database, name: str = "Acme Pty Ltd", language: str = "en", *, city: str | None = "Sydney"
) -> Customer:
    address = AddressData(address_line_1="1 Main St", city=city, country="Australia")
    return await customers.create_customer(
        db, Settings(), SYSTEM, CustomerData(name=name, language=language, address=address)
    )


async def add_contact(db: Database, customer_id: int, email: str, type: ContactType) -> None:
    await customers.add_contact(
        db, SYSTEM, customer_id, ContactData(name=email.split("@")[0], email=email, type=type)
    )


async def make_product(db: Database, name: str = "Mobile plan", tax: str = "10") -> Product:
    return await products.create_product(
        db, SYSTEM, ProductData(name=name, tax_percentage=Decimal(tax))
    )


async def make_charge(
    db: Database,
    customer_id: int,
    cost: str = "10.00",
    *,
    tax: str | None = None,
    title: str = "Service",
    product_id: int | None = None,
    created_at: datetime | None = None,
) -> Transaction:
    data = TransactionData(
        customer_id=customer_id,
        title=title,
        retail_cost=Decimal(cost),
        tax_percentage=Decimal(tax) if tax is not None else None,
        product_id=product_id,
        created_at=created_at,
    )
    return await transactions.create_transaction(db, SYSTEM, data)


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show that a refused request changed nothing."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with db.read() as session:
        for table in Base.metadata.sorted_tables:
            rows = await session.execute(select(table).order_by(*table.primary_key.columns))
            found[table.name] = [tuple(row) for row in rows]
    return found
