"""What invoice queries and mutations take: filters, sorts and commands."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from domain.errors import DomainError, ErrorCode
from domain.model import validation
from domain.model.commands import GenerateRequest, PaymentRequest
from domain.model.payments import PlannedInstallment
from domain.queries import invoices
from graph.enums import (
    InvoiceStatus,
    PaymentFilter,
    PaymentMethodKind,
    SortDirection,
    SortField,
    VoidFilter,
)
from graph.ids import parse_id, require_id


def _ids(given: list[strawberry.ID]) -> list[int]:
    """IDs that name nothing are left out (an exclusion of nothing excludes nothing)."""
    return [i for i in map(parse_id, given) if i is not None]


@strawberry.input
class InvoiceFilter:
    customer_id: strawberry.ID | None = None
    search: str | None = strawberry.field(
        default=None,
        description='Matches the invoice id, the start of its number, and titles (and, system-wide, customer names) having a word that begins with each word searched ("mob serv" finds "Mobile services"); case and accents are ignored.',
    )
    void: VoidFilter = VoidFilter.ALL
    payment: PaymentFilter = PaymentFilter.ALL
    status: InvoiceStatus | None = None
    overdue: bool | None = strawberry.field(
        default=None,
        description="true: only invoices overdue today (business.timezone); false: only those that are not.",
    )
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217: only invoices in this currency."
    )

    def to_domain(
        self, customer_id: int | None = None, today: date | None = None
    ) -> invoices.InvoiceFilter:
        if customer_id is None and self.customer_id is not None:
            # An ID that cannot be ours matches nothing rather than everything.
            customer_id = parse_id(self.customer_id) or -1
        return invoices.InvoiceFilter(
            customer_id=customer_id,
            search=self.search,
            void=self.void,
            payment=self.payment,
            status=self.status,
            overdue=self.overdue,
            today=today,
            currency=validation.currency("filter.currency", self.currency)
            if self.currency is not None
            else None,
        )


@strawberry.input
class InvoiceSort:
    field: SortField = SortField.CREATED
    direction: SortDirection = SortDirection.DESC

    def to_domain(self) -> invoices.InvoiceSort:
        return invoices.InvoiceSort(
            field=self.field, descending=self.direction == SortDirection.DESC
        )


@strawberry.input
class GenerateInvoiceInput:
    customer_id: strawberry.ID
    title: str | None = strawberry.field(
        default=None,
        description='Default: "Invoice for <start> - <end>" in the customer\'s language.',
    )
    start_date: date | None = strawberry.field(
        default=None, description="Default: 14 days before today."
    )
    end_date: date | None = strawberry.field(default=None, description="Default: today.")
    due_date: date | None = strawberry.field(default=None, description="Default: today.")
    transaction_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Bill exactly these (each unbilled, the customer's, in the period).",
    )
    excluded_transaction_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Repeating a request with the same key returns the first result instead of billing twice.",
    )

    def to_domain(self) -> GenerateRequest:
        chosen = None
        if self.transaction_ids is not None:
            chosen = []
            for raw in self.transaction_ids:
                parsed = parse_id(raw)
                if parsed is None:
                    raise DomainError(
                        ErrorCode.TRANSACTION_UNAVAILABLE,
                        f"Transaction {str(raw)!r} does not exist.",
                        "transaction_ids",
                    )
                chosen.append(parsed)
        return GenerateRequest(
            customer_id=require_id(self.customer_id, "Customer", "customer_id"),
            title=self.title,
            start_date=self.start_date,
            end_date=self.end_date,
            due_date=self.due_date,
            transaction_ids=chosen,
            excluded_transaction_ids=_ids(self.excluded_transaction_ids),
            idempotency_key=self.idempotency_key,
        )


@strawberry.input
class PayInvoiceInput:
    invoice_id: strawberry.ID
    method: PaymentMethodKind
    reference: str | None = strawberry.field(
        default=None, description='Free text for manual methods ("Cash paid 2025-01-15").'
    )
    payment_method_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="For STRIPE: the saved card to charge; default: the customer's default card.",
    )
    idempotency_key: str | None = None
    amount: Decimal | None = strawberry.field(
        default=None,
        description="Part of what is due (a partial payment); default: everything due. Above what is due: AMOUNT_ABOVE_DUE, and nothing is paid.",
    )

    def to_domain(self) -> PaymentRequest:
        return PaymentRequest(
            invoice_id=require_id(self.invoice_id, "Invoice", "invoice_id"),
            method=self.method,
            reference=self.reference,
            payment_method_id=parse_id(self.payment_method_id) if self.payment_method_id else None,
            idempotency_key=self.idempotency_key,
            amount=self.amount,
        )


@strawberry.input
class InstallmentInput:
    due_date: date
    amount: Decimal

    def to_domain(self) -> PlannedInstallment:
        return PlannedInstallment(self.due_date, self.amount)


@strawberry.input
class BillingRunInput:
    start_date: date
    end_date: date
    due_date: date
    customer_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Default: every customer with unbilled charges in the period."
    )

    def chosen_customers(self) -> list[int] | None:
        if self.customer_ids is None:
            return None
        return [require_id(raw, "Customer", "customer_ids") for raw in self.customer_ids]


@strawberry.input
class InvoicePreviewInput:
    customer_id: strawberry.ID
    start_date: date | None = strawberry.field(
        default=None, description="Default: 14 days before today."
    )
    end_date: date | None = strawberry.field(default=None, description="Default: today.")
    excluded_transaction_ids: list[strawberry.ID] = strawberry.field(default_factory=list)

    def excluded(self) -> list[int]:
        return _ids(self.excluded_transaction_ids)
