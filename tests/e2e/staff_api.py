"""A staff client of a running `invoicing serve`, as an integrator's script would be:
GraphQL over HTTP with a bearer token, and the few steps the end-to-end tests repeat."""

from __future__ import annotations

from typing import Any

import httpx


async def gql(base: str, token: str, query: str, variables: dict[str, Any] | None = None) -> dict:
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(
            f"{base}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
    body = answer.json()
    assert "errors" not in body, body
    return body["data"]


async def create_customer(base: str, token: str, name: str) -> str:
    made = await gql(
        base,
        token,
        "mutation($n: String!) { createCustomer(input: {name: $n}) { customer { id } } }",
        {"n": name},
    )
    return made["createCustomer"]["customer"]["id"]


async def add_charge(
    base: str, token: str, customer: str, title: str = "Plan", cost: str = "10.00"
) -> None:
    made = await gql(
        base,
        token,
        "mutation($c: ID!, $t: String!, $r: Decimal!) { createTransaction(input: "
        "{customerId: $c, title: $t, retailCost: $r}) { errors { code } } }",
        {"c": customer, "t": title, "r": cost},
    )
    assert made["createTransaction"]["errors"] == []


async def generate(base: str, token: str, customer: str) -> str:
    made = await gql(
        base,
        token,
        "mutation($c: ID!) { generateInvoice(input: {customerId: $c}) { invoice { id } errors { code } } }",
        {"c": customer},
    )
    assert made["generateInvoice"]["errors"] == []
    return made["generateInvoice"]["invoice"]["id"]


async def invoice_for(base: str, token: str, name: str) -> tuple[str, str]:
    """A new customer with one charge, billed: (customer id, invoice id)."""
    customer = await create_customer(base, token, name)
    await add_charge(base, token, customer)
    return customer, await generate(base, token, customer)


async def pay_cash(base: str, token: str, invoice: str) -> None:
    made = await gql(
        base,
        token,
        "mutation($i: ID!) { payInvoice(input: {invoiceId: $i, method: CASH}) { errors { code } } }",
        {"i": invoice},
    )
    assert made["payInvoice"]["errors"] == []
