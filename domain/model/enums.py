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
    # A Stripe Checkout session opened from the invoice's page: the customer pays there.
    CHECKOUT = "CHECKOUT"
    # A payment the invoice did not need (a checkout paid after the invoice was paid
    # otherwise, in another tab or in cash), given back to the customer in full.
    RETURN = "RETURN"


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
    PART_PAID = "PART_PAID"
    PLAN_CREATED = "PLAN_CREATED"
    PLAN_CANCELLED = "PLAN_CANCELLED"
    OVERDUE = "OVERDUE"
    REMINDED = "REMINDED"
    LATE_FEE = "LATE_FEE"
    VOIDED = "VOIDED"
    REFUNDED = "REFUNDED"
    WEBHOOK = "WEBHOOK"
    PAYMENT_PENDING = "PAYMENT_PENDING"
    PAYMENT_RECONCILED = "PAYMENT_RECONCILED"
    NEEDS_REVIEW = "NEEDS_REVIEW"
    PDF_READY = "PDF_READY"


class WebhookEventType(enum.StrEnum):
    """What an integrator's endpoint can subscribe to; the value is the delivery's `type`."""

    INVOICE_GENERATED = "invoice.generated"
    INVOICE_EMAILED = "invoice.emailed"
    INVOICE_PAID = "invoice.paid"
    INVOICE_PART_PAID = "invoice.part_paid"
    INVOICE_OVERDUE = "invoice.overdue"
    INVOICE_REMINDER_SENT = "invoice.reminder_sent"
    INVOICE_VOIDED = "invoice.voided"
    INVOICE_REFUNDED = "invoice.refunded"
    PAYMENT_FAILED = "payment.failed"
    INVOICE_PDF_READY = "invoice.pdf_ready"


class WebhookDeliveryStatus(enum.StrEnum):
    """PENDING until the endpoint answers 2xx (SUCCEEDED) or retries run out (FAILED);
    SENDING while a worker holds it (a worker that dies lets it go when its lease ends)."""

    PENDING = "PENDING"
    SENDING = "SENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class EInvoiceFormat(enum.StrEnum):
    """Which e-invoice a customer receives beside the PDF: none (the PDF is for people
    only), Factur-X (the PDF itself, as PDF/A-3 with the CII XML inside) or UBL (Peppol BIS
    Billing 3.0 XML at /crm/invoice/{id}/ubl)."""

    NONE = "NONE"
    FACTURX = "FACTURX"
    UBL = "UBL"
