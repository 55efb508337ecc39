"""The closed sets of values the business speaks in. The GraphQL layer registers these very
classes as its enums, so a value added here appears in the API."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    STAFF = "STAFF"
    CUSTOMER = "CUSTOMER"


class ContactType(enum.StrEnum):
    BILLING = "BILLING"
    PRIMARY = "PRIMARY"
    OTHER = "OTHER"


class TransactionKind(enum.StrEnum):
    CHARGE = "CHARGE"
    PAYMENT = "PAYMENT"
    REFUND = "REFUND"


class InvoiceStatus(enum.StrEnum):
    UNPAID = "UNPAID"
    PAID = "PAID"
    REFUNDED = "REFUNDED"


class PaymentMethodKind(enum.StrEnum):
    STRIPE = "STRIPE"
    CASH = "CASH"
    REFUND = "REFUND"
    POS = "POS"
    BANK_TRANSFER = "BANK_TRANSFER"


class AttemptKind(enum.StrEnum):
    CHARGE = "CHARGE"
    REFUND = "REFUND"


class AttemptState(enum.StrEnum):
    """A provider call's lifecycle: PENDING from the claim until its outcome is known (the
    call in flight, a timeout, a crash, a `processing` payment), then one of the others."""

    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    DECLINED = "DECLINED"
    FAILED = "FAILED"


class EventKind(enum.StrEnum):
    """What can happen to an invoice, as its history records it."""

    GENERATED = "GENERATED"
    EMAILED = "EMAILED"
    EMAIL_FAILED = "EMAIL_FAILED"
    PAYMENT_SUCCEEDED = "PAYMENT_SUCCEEDED"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    PAID = "PAID"
    VOIDED = "VOIDED"
    REFUNDED = "REFUNDED"
    WEBHOOK = "WEBHOOK"
    PAYMENT_PENDING = "PAYMENT_PENDING"
    PAYMENT_RECONCILED = "PAYMENT_RECONCILED"
    NEEDS_REVIEW = "NEEDS_REVIEW"
