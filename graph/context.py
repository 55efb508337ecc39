"""The per-request context: who is asking, the process runtime, and fresh DataLoaders."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import strawberry
from starlette.requests import Request
from strawberry.dataloader import DataLoader

from domain import customers, invoice_events, invoices, products, transactions
from domain.access import Viewer
from domain.config import Settings
from domain.db import Database
from domain.models import (
    Contact,
    Customer,
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    PaymentMethod,
    Product,
    Transaction,
)
from domain.pdf_cache import PdfStatus
from domain.runtime import Runtime

K = TypeVar("K")
V = TypeVar("V")


def _one_each(
    fetch: Callable[[list[int]], Coroutine[Any, Any, Mapping[int, V]]], missing: Any
) -> DataLoader[int, V]:
    async def load(keys: list[int]) -> list[V]:
        found = await fetch(keys)
        return [found.get(key, missing() if callable(missing) else missing) for key in keys]

    return DataLoader(load_fn=load)


@dataclass
class Loaders:
    customer: DataLoader[int, Customer | None]
    product: DataLoader[int, Product | None]
    transaction: DataLoader[int, Transaction | None]
    contacts: DataLoader[int, list[Contact]]
    payment_methods: DataLoader[int, list[PaymentMethod]]
    invoice: DataLoader[int, Invoice | None]
    invoice_lines: DataLoader[int, list[InvoiceLine]]
    invoice_events: DataLoader[int, list[InvoiceEvent]]

    @classmethod
    def create(cls, db: Database) -> Loaders:
        def batch(
            function: Callable[[Database, Iterable[int]], Coroutine[Any, Any, Mapping[int, Any]]],
        ):
            return lambda keys: function(db, keys)

        return cls(
            customer=_one_each(batch(customers.customers_by_id), None),
            product=_one_each(batch(products.products_by_id), None),
            transaction=_one_each(batch(transactions.transactions_by_id), None),
            contacts=_one_each(batch(customers.contacts_by_customer), list),
            payment_methods=_one_each(batch(customers.payment_methods_by_customer), list),
            invoice=_one_each(batch(invoices.invoices_by_id), None),
            invoice_lines=_one_each(batch(invoices.lines_by_invoice), list),
            invoice_events=_one_each(batch(invoice_events.events_by_invoice), list),
        )


@dataclass
class Context:
    request: Request
    runtime: Runtime
    viewer: Viewer
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders.create(self.runtime.db)
        pdfs = self.runtime.pdfs

        async def pdf_statuses(keys: list[int]) -> list[PdfStatus | None]:
            found = await pdfs.statuses(self.viewer, keys)
            return [found.get(key) for key in keys]

        self.pdf_status: DataLoader[int, PdfStatus | None] = DataLoader(load_fn=pdf_statuses)

    @property
    def db(self) -> Database:
        return self.runtime.db

    @property
    def settings(self) -> Settings:
        return self.runtime.settings


Info = strawberry.Info[Context, None]
