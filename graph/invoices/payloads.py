"""What invoice mutations answer."""

from __future__ import annotations

from collections.abc import Callable

import strawberry

from domain.model.entities import Invoice
from domain.services.billing import BillingRun
from graph.context import Context
from graph.errors import UserError
from graph.invoices.types import InvoiceType


@strawberry.type
class InvoicePayload:
    invoice: InvoiceType | None
    errors: list[UserError]

    @classmethod
    def answer(cls, ctx: Context) -> Callable[[Invoice | None, list[UserError]], InvoicePayload]:
        def of(row: Invoice | None, errors: list[UserError]) -> InvoicePayload:
            return cls(invoice=InvoiceType.from_row(row, ctx) if row else None, errors=errors)

        return of


@strawberry.type
class EmailInvoicePayload:
    invoice: InvoiceType | None
    recipients: list[str] = strawberry.field(description="The addresses the invoice was sent to.")
    errors: list[UserError]

    @classmethod
    def answer(
        cls, ctx: Context
    ) -> Callable[[tuple[Invoice, list[str]] | None, list[UserError]], EmailInvoicePayload]:
        def of(
            sent: tuple[Invoice, list[str]] | None, errors: list[UserError]
        ) -> EmailInvoicePayload:
            if sent is None:
                return cls(invoice=None, recipients=[], errors=errors)
            invoice, recipients = sent
            return cls(
                invoice=InvoiceType.from_row(invoice, ctx), recipients=recipients, errors=errors
            )

        return of


@strawberry.type
class ClearPdfCachePayload:
    cleared: int
    errors: list[UserError]

    @classmethod
    def of(cls, cleared: int | None, errors: list[UserError]) -> ClearPdfCachePayload:
        return cls(cleared=cleared or 0, errors=errors)


@strawberry.type
class BillingRunPayload:
    invoices: list[InvoiceType]
    skipped_customer_ids: list[strawberry.ID] = strawberry.field(
        description="Customers that had nothing to bill."
    )
    errors: list[UserError]

    @classmethod
    def answer(
        cls, ctx: Context
    ) -> Callable[[BillingRun | None, list[UserError]], BillingRunPayload]:
        def of(run: BillingRun | None, errors: list[UserError]) -> BillingRunPayload:
            if run is None:
                return cls(invoices=[], skipped_customer_ids=[], errors=errors)
            failures = [
                UserError(
                    code=error.code,
                    message=f"Customer {customer_id}: {error.message}",
                    field="customerIds",
                )
                for customer_id, error in run.failures
            ]
            return cls(
                invoices=[InvoiceType.from_row(row, ctx) for row in run.invoices],
                skipped_customer_ids=[strawberry.ID(str(i)) for i in run.skipped_customer_ids],
                errors=failures,
            )

        return of
