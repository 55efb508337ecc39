"""The per-request context: who is asking, the process runtime, and fresh DataLoaders.

Every nested field reads through a loader made here by one helper, `_batched`, over the
domain's two batch reads (store/batches.py): a page of any size costs the same queries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

import strawberry
from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from domain.bootstrap import Runtime
from domain.config import Settings
from domain.model.access import Viewer
from domain.model.einvoice import EInvoiceStatus
from domain.model.entities import (
    Contact,
    Customer,
    Installment,
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    Payment,
    PaymentAttempt,
    PaymentMethod,
    Product,
    Transaction,
)
from domain.model.enums import AttemptKind, AttemptState, EInvoiceFormat, Role
from domain.model.pdfs import PdfStatus
from domain.model.periods import local_day
from domain.queries.receivables import NOTHING, Balance, balances
from domain.store import deployment
from domain.store.batches import rows_by_id, rows_by_parent
from domain.store.database import Database
from graph.query_budget import RequestCost

K = TypeVar("K")
V = TypeVar("V")
M = TypeVar("M")


class SharedLoader(DataLoader[K, V]):
    """A DataLoader whose batch outlives any one field waiting on it. When a field fails,
    graphql-core cancels the fields still running; a field awaiting the batch's future
    itself would cancel that future for every other field sharing the key (which then
    raised CancelledError: a 500). Each field waits on a shield of it instead."""

    def load(self, key: K) -> asyncio.Future[V]:
        return asyncio.shield(super().load(key))


def _batched(
    fetch: Callable[[list[int]], Awaitable[Mapping[int, V]]], missing: Callable[[], M]
) -> DataLoader[int, V | M]:
    async def load(keys: list[int]) -> list[V | M]:
        found = await fetch(keys)
        return [found[key] if key in found else missing() for key in keys]

    return SharedLoader(load_fn=load)


def _none() -> None:
    return None


EInvoiceKey = tuple[int, EInvoiceFormat | None]


def _einvoices(runtime: Runtime, viewer: Viewer) -> DataLoader[EInvoiceKey, EInvoiceStatus | None]:
    """Invoice.eInvoice for a page: one batch per format asked for."""

    async def load(keys: list[EInvoiceKey]) -> list[EInvoiceStatus | None]:
        found: dict[EInvoiceKey, EInvoiceStatus] = {}
        for chosen in dict.fromkeys(chosen for _, chosen in keys):
            ids = [invoice_id for invoice_id, wanted in keys if wanted == chosen]
            statuses = await runtime.einvoices.statuses(viewer, ids, chosen)
            found.update({(invoice_id, chosen): status for invoice_id, status in statuses.items()})
        return [found.get(key) for key in keys]

    return SharedLoader(load_fn=load)


@dataclass
class Loaders:
    customer: DataLoader[int, Customer | None]
    product: DataLoader[int, Product | None]
    transaction: DataLoader[int, Transaction | None]
    invoice: DataLoader[int, Invoice | None]
    contacts: DataLoader[int, list[Contact]]
    payment_methods: DataLoader[int, list[PaymentMethod]]
    invoice_lines: DataLoader[int, list[InvoiceLine]]
    invoice_events: DataLoader[int, list[InvoiceEvent]]
    open_attempts: DataLoader[int, list[PaymentAttempt]]
    payments: DataLoader[int, list[Payment]]
    installments: DataLoader[int, list[Installment]]
    pdf_status: DataLoader[int, PdfStatus | None]
    einvoice: DataLoader[EInvoiceKey, EInvoiceStatus | None]
    balances: DataLoader[int, Balance]

    @classmethod
    def create(cls, runtime: Runtime, viewer: Viewer) -> Loaders:
        db = runtime.db

        def by_id(entity: type[M]) -> DataLoader[int, M | None]:
            return _batched(lambda ids: rows_by_id(db, entity, ids), _none)  # type: ignore[type-var]

        return cls(
            customer=by_id(Customer),
            product=by_id(Product),
            transaction=by_id(Transaction),
            invoice=by_id(Invoice),
            contacts=_batched(
                lambda ids: rows_by_parent(db, Contact, Contact.customer_id, ids, Contact.id), list
            ),
            payment_methods=_batched(
                lambda ids: rows_by_parent(
                    db,
                    PaymentMethod,
                    PaymentMethod.customer_id,
                    ids,
                    PaymentMethod.is_default.desc(),
                    PaymentMethod.id,
                ),
                list,
            ),
            invoice_lines=_batched(
                lambda ids: rows_by_parent(
                    db, InvoiceLine, InvoiceLine.invoice_id, ids, InvoiceLine.position
                ),
                list,
            ),
            invoice_events=_batched(
                lambda ids: rows_by_parent(
                    db, InvoiceEvent, InvoiceEvent.invoice_id, ids, InvoiceEvent.id
                ),
                list,
            ),
            open_attempts=_batched(
                lambda ids: rows_by_parent(
                    db,
                    PaymentAttempt,
                    PaymentAttempt.invoice_id,
                    ids,
                    PaymentAttempt.id,
                    # Card charges and refunds in flight; an open checkout blocks nothing.
                    where=(PaymentAttempt.state == AttemptState.PENDING)
                    & (PaymentAttempt.kind != AttemptKind.CHECKOUT),
                ),
                list,
            ),
            payments=_batched(
                lambda ids: rows_by_parent(db, Payment, Payment.invoice_id, ids, Payment.id), list
            ),
            installments=_batched(
                lambda ids: rows_by_parent(
                    db, Installment, Installment.invoice_id, ids, Installment.position
                ),
                list,
            ),
            pdf_status=_batched(lambda ids: runtime.pdfs.statuses(viewer, ids), _none),
            einvoice=_einvoices(runtime, viewer),
            balances=_batched(lambda ids: balances(db, runtime.settings, ids), lambda: NOTHING),
        )


# A socket's viewer until its connection_init brings a token: a customer that is no one's.
NOBODY = Viewer(role=Role.CUSTOMER, name="not signed in", customer_id=0)


@dataclass
class Context:
    request: Request | WebSocket
    runtime: Runtime
    viewer: Viewer
    loaders: Loaders = field(init=False)
    _link_secret: str | None = field(default=None, init=False)
    # A subscription socket's connection_init payload (Strawberry sets it).
    connection_params: object = field(default=None, init=False)
    # What an HTTP request's operations ask for in all (a batch is one request); a
    # socket's operations are each costed alone (None).
    request_cost: RequestCost | None = None

    def __post_init__(self) -> None:
        self.loaders = Loaders.create(self.runtime, self.viewer)

    async def link_secret(self) -> str:
        """The secret signing invoice links, read once per request."""
        if self._link_secret is None:
            self._link_secret = await deployment.link_secret(self.db, self.settings)
        return self._link_secret

    @property
    def db(self) -> Database:
        return self.runtime.db

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def today(self) -> date:
        """The business's day now (business.timezone): what "overdue" is measured on."""
        return local_day(self.db.now(), self.settings.business.zone)


Info = strawberry.Info[Context, None]
