"""What each use case is asked to do: plain values, built by the GraphQL layer, the command
line or the tests, and validated by the service that carries them out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from domain.model.access import Viewer
from domain.model.enums import ContactType, EInvoiceFormat, PaymentMethodKind


class Unchanged:
    """An optional field left out of a change (as opposed to one set to None: cleared)."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = Unchanged()


@dataclass(frozen=True)
class AddressData:
    address_line_1: str | None = None
    address_line_2: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    country: str | None = None


ADDRESS_FIELDS = tuple(AddressData.__dataclass_fields__)


@dataclass(frozen=True)
class CustomerData:
    name: str
    language: str | None = None
    address: AddressData | None = None
    # For e-invoices; left out (UNCHANGED) keeps what is stored, None clears it (for the
    # format: back to the configured default).
    tax_id: str | None | Unchanged = UNCHANGED
    electronic_address: str | None | Unchanged = UNCHANGED
    einvoice_format: EInvoiceFormat | None | Unchanged = UNCHANGED
    # Reminder emails for its late invoices (None: the default, on).
    reminders_enabled: bool | None | Unchanged = UNCHANGED
    # ISO 4217; None: keep it (a new customer: business.currency_code).
    currency: str | None = None


@dataclass(frozen=True)
class ContactData:
    name: str
    email: str
    type: ContactType


@dataclass(frozen=True)
class ProductData:
    name: str
    tax_percentage: Decimal
    tax_exemption_reason: str | None = None


@dataclass(frozen=True)
class TransactionData:
    customer_id: int
    title: str
    retail_cost: Decimal
    description: str | None = None
    tax_percentage: Decimal | None = None
    product_id: int | None = None
    created_at: datetime | None = None
    # Default: the product's, when the tax percentage is the product's too.
    tax_exemption_reason: str | None = None
    # A credit's correction of an earlier invoice of the customer's.
    credits_invoice_id: int | None = None


@dataclass(frozen=True)
class TransactionChanges:
    title: str | None = None
    description: str | None = None
    retail_cost: Decimal | None = None
    tax_percentage: Decimal | None = None
    # "" clears it; setting a tax percentage above 0 drops it.
    tax_exemption_reason: str | None = None


@dataclass(frozen=True)
class GenerateRequest:
    customer_id: int
    title: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    due_date: date | None = None
    transaction_ids: Sequence[int] | None = None
    excluded_transaction_ids: Sequence[int] = ()
    idempotency_key: str | None = None


@dataclass(frozen=True)
class PaymentRequest:
    invoice_id: int
    method: PaymentMethodKind
    reference: str | None = None
    payment_method_id: int | None = None
    idempotency_key: str | None = None
    # None: everything due.
    amount: Decimal | None = None


@dataclass(frozen=True)
class RefundRequest:
    invoice_id: int
    idempotency_key: str | None = None
    # The card payment to give back (the rest of it); None: the latest one with money left.
    payment_id: int | None = None


@dataclass(frozen=True)
class BillingOrder:
    """A billing run's period and due date, and who asked for it."""

    start: date
    end: date
    due: date
    operator: Viewer
