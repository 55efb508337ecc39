"""The stored entities: customers and their contacts and cards, products, transactions,
invoices with their frozen lines, the PDF cache, API tokens, idempotency records, invoice
history and the stats summary.

Every `created_at` is stamped by the unit of work from the injected clock
(domain/store/database.py) when a row is first flushed, unless the code set it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Computed,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from domain.model.columns import Hundredths, Thousandths, UTCDateTime, stored_enum
from domain.model.enums import (
    AttemptKind,
    AttemptState,
    ContactType,
    EInvoiceFormat,
    InvoiceStatus,
    PaymentMethodKind,
    Role,
    TransactionKind,
    WebhookDeliveryStatus,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Invoice.overdue_announced, as the database computes it (a column of its own so that an
# index can hold it: MariaDB indexes no expressions).
ANNOUNCED = "CASE WHEN overdue_announced_for = next_due_date THEN 1 ELSE 0 END"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = {"sqlite_autoincrement": True}  # ids are never reused (migration 0011)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    language: Mapped[str] = mapped_column(String(8))
    address_line_1: Mapped[str | None] = mapped_column(String(200))
    address_line_2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(100))
    zip_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(100))
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # For e-invoices: its VAT number (with the country prefix) or business number, its
    # Peppol participant id ("0151:51824753556") and the e-invoice it wants (None: the
    # configured default, einvoice.default_format).
    tax_id: Mapped[str | None] = mapped_column(String(64))
    electronic_address: Mapped[str | None] = mapped_column(String(200))
    einvoice_format: Mapped[EInvoiceFormat | None] = mapped_column(stored_enum(EInvoiceFormat))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # ISO 4217: what the customer is billed in; its charges are in it too. It changes only
    # while the customer has no invoice (services/customers.py).
    currency: Mapped[str] = mapped_column(String(3))
    # False: no reminder emails (late fees still follow the terms).
    reminders_enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = {"sqlite_autoincrement": True}  # ids are never reused (migration 0011)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    type: Mapped[ContactType] = mapped_column(stored_enum(ContactType))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PaymentMethod(Base):
    __tablename__ = "payment_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    stripe_payment_method_id: Mapped[str] = mapped_column(String(64), unique=True)
    brand: Mapped[str] = mapped_column(String(32))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Product(Base):
    __tablename__ = "products"
    __table_args__ = {"sqlite_autoincrement": True}  # ids are never reused (migration 0011)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    tax_percentage: Mapped[Decimal] = mapped_column(Hundredths)
    # Why its untaxed charges are exempt (an e-invoice's category E); None: zero rated.
    tax_exemption_reason: Mapped[str | None] = mapped_column(String(200))


class Transaction(Base):
    __tablename__ = "transactions"
    __table_args__ = (
        # Unbilled charges of a customer in a period: the preview and generate query.
        Index("ix_transactions_customer_unbilled", "customer_id", "invoice_id", "created_at"),
        Index("ix_transactions_created_at", "created_at"),
        {"sqlite_autoincrement": True},  # ids are never reused (migration 0011)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TransactionKind] = mapped_column(stored_enum(TransactionKind))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retail_cost: Mapped[Decimal] = mapped_column(Thousandths)
    tax_percentage: Mapped[Decimal] = mapped_column(Hundredths)
    tax_amount: Mapped[Decimal] = mapped_column(Thousandths)
    tax_exemption_reason: Mapped[str | None] = mapped_column(String(200))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    # A credit's correction of an earlier invoice of the customer's: the credit note that
    # bills it cites that invoice (an e-invoice's BG-3).
    credits_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        Index("ix_invoices_customer_created", "customer_id", "created_at"),
        Index("ix_invoices_created_at", "created_at"),
        # The newest first with what the overdue filter (and the void and payment filters)
        # ask of each invoice: those walk it from the newest, index only (migration 0022).
        # The narrow index above stays for walks that test nothing (a deep page by offset
        # reads 50,000 entries: 12 ms there, 24 ms here).
        Index(
            "ix_invoices_created_collect",
            "created_at",
            "id",
            "status",
            "void",
            "next_due_date",
            "total",
            "amount_paid",
        ),
        # The same for the open invoices alone (UNPAID, not void), newest first: the
        # overdue filter walks these, passing only the open invoices not yet due
        # (migration 0023), and so does the "unpaid" payment filter.
        Index(
            "ix_invoices_open_created",
            "status",
            "void",
            "created_at",
            "id",
            "next_due_date",
            "total",
            "amount_paid",
        ),
        # The overdue filter, newest first (migration 0026): the open invoices the dunning
        # round has announced overdue, newest first, and those it has not, by when they
        # fall due (the few fallen due since its last run: the filter reads them all and
        # sorts them). Through ix_invoices_open_created the filter passed every open
        # invoice not yet due.
        Index(
            "ix_invoices_announced_created",
            "status",
            "void",
            "overdue_announced",
            "created_at",
            "id",
            "next_due_date",
            "total",
            "amount_paid",
        ),
        Index(
            "ix_invoices_announced_due",
            "status",
            "void",
            "overdue_announced",
            "next_due_date",
            "created_at",
            "id",
            "total",
            "amount_paid",
        ),
        # One per sort of the invoices list, ending in the id tie-break, so a page is an
        # index walk that stops after one page.
        Index("ix_invoices_due_date_id", "due_date", "id"),
        Index("ix_invoices_total_id", "total", "id"),
        Index("ix_invoices_title_id", "title", "id"),
        Index("ix_invoices_status_id", "status", "id"),
        Index("ix_invoices_payment_reference", "payment_reference"),
        UniqueConstraint("number_series", "number_seq"),
        # The overdue filter, card, aging and the dunning round: open invoices by when what
        # is due next falls due, with what they ask (an index-only range scan).
        Index(
            "ix_invoices_collect",
            "status",
            "void",
            "next_due_date",
            "total",
            "amount_paid",
            "customer_id",
        ),
        {"sqlite_autoincrement": True},  # ids are never reused (migration 0011)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Derived from the id (invoice.number_format), so set right after the first flush.
    number: Mapped[str | None] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    title: Mapped[str] = mapped_column(String(255))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    subtotal: Mapped[Decimal] = mapped_column(Thousandths)
    tax: Mapped[Decimal] = mapped_column(Thousandths)
    total: Mapped[Decimal] = mapped_column(Thousandths)
    # The customer's currency when it was issued (a credit note: its invoice's).
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[InvoiceStatus] = mapped_column(
        stored_enum(InvoiceStatus), default=InvoiceStatus.UNPAID
    )
    void: Mapped[bool] = mapped_column(Boolean, default=False)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_method: Mapped[PaymentMethodKind | None] = mapped_column(stored_enum(PaymentMethodKind))
    payment_reference: Mapped[str | None] = mapped_column(String(255))
    refund_reference: Mapped[str | None] = mapped_column(String(255))
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    # What has been refunded of a paid invoice; all of it once REFUNDED.
    refunded_amount: Mapped[Decimal] = mapped_column(Thousandths, default=Decimal("0.00"))
    # What its payments brought in (the sum of its Payment rows): the invoice is PAID once
    # this reaches its total; until then the rest is due.
    amount_paid: Mapped[Decimal] = mapped_column(Thousandths, default=Decimal("0.00"))
    # When what is due next falls due: the due date, or with a payment plan the first
    # installment not paid yet (model/dunning.py). Overdue the day after.
    next_due_date: Mapped[date] = mapped_column(
        Date, default=lambda context: context.get_current_parameters()["due_date"]
    )
    # The next_due_date whose passing was announced (invoice.overdue), once.
    overdue_announced_for: Mapped[date | None] = mapped_column(Date)
    # Announced overdue for what is due now: the dunning round (hourly) has seen it fall
    # due. Computed by the database, never written: a payment that moves next_due_date, or
    # an announcement, changes it with no code of ours keeping it in step. The overdue
    # filter's index (migration 0026) puts these apart from the invoices not yet due.
    # (Declared nullable: MariaDB refuses NOT NULL on a generated column. It is never NULL.)
    overdue_announced: Mapped[bool] = mapped_column(
        Boolean, Computed(ANNOUNCED), nullable=True, deferred=True
    )
    # Its place in its number series ("invoice:2026", "credit_note:0"): gapless per series.
    number_series: Mapped[str | None] = mapped_column(String(32))
    number_seq: Mapped[int | None] = mapped_column(Integer)
    # The month it was created, in the business time zone (202501): its stats bucket.
    created_month: Mapped[int] = mapped_column(Integer, default=0)


class Payment(Base):
    """Money received for an invoice (one of several, for an invoice paid in parts), and
    what of it was given back."""

    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_invoice_id", "invoice_id", "id"),
        # A provider's refund event names the payment it refunds.
        Index("ix_payments_reference", "reference"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    amount: Mapped[Decimal] = mapped_column(Thousandths)
    method: Mapped[PaymentMethodKind] = mapped_column(stored_enum(PaymentMethodKind))
    # The provider's PaymentIntent for a card, what staff typed for the rest.
    reference: Mapped[str | None] = mapped_column(String(255))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refunded_amount: Mapped[Decimal] = mapped_column(Thousandths, default=Decimal("0.00"))
    refund_reference: Mapped[str | None] = mapped_column(String(255))


class Installment(Base):
    """One part of a payment plan: what is due by when, and what payments put into it
    (payments fill a plan's installments in order)."""

    __tablename__ = "installments"
    __table_args__ = (UniqueConstraint("invoice_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    position: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Thousandths)
    amount_paid: Mapped[Decimal] = mapped_column(Thousandths, default=Decimal("0.00"))


class Reminder(Base):
    """One reminder of the schedule for one due date of an invoice, claimed before it is
    sent (SENDING) and settled after (SENT, FAILED): the unique key makes concurrent rounds
    send it once."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("invoice_id", "falls_due", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    falls_due: Mapped[date] = mapped_column(Date)
    # Days from falls_due (negative: before it), one of dunning.reminder_days.
    step: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    recipients: Mapped[str] = mapped_column(Text, default="")
    message: Mapped[str] = mapped_column(Text, default="")
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LateFeeCharge(Base):
    """One month's late fee of an invoice, booked once (the unique key) as a charge of its
    customer; the charge is billed by the customer's next invoice."""

    __tablename__ = "late_fees"
    __table_args__ = (UniqueConstraint("invoice_id", "falls_due", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    falls_due: Mapped[date] = mapped_column(Date)
    month: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Thousandths)
    # Staff may delete the charge like any unbilled one; the month stays booked.
    transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("transactions.id", ondelete="SET NULL")
    )
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PaymentAttempt(Base):
    """One call to the card provider for an invoice (a charge or a refund), claimed before
    the call and settled after it, so no database lock is held while the provider answers
    and an outcome lost to a crash is settled later by asking the provider."""

    __tablename__ = "payment_attempts"
    __table_args__ = (
        Index("ix_payment_attempts_invoice_state", "invoice_id", "state"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    kind: Mapped[AttemptKind] = mapped_column(stored_enum(AttemptKind))
    state: Mapped[AttemptState] = mapped_column(stored_enum(AttemptState), index=True)
    amount: Mapped[Decimal] = mapped_column(Thousandths)
    currency: Mapped[str] = mapped_column(String(3))
    # The provider's idempotency key: deployment prefix, attempt id, a random part.
    provider_key: Mapped[str] = mapped_column(String(120), unique=True)
    # The PaymentIntent or Refund, once the provider named it.
    provider_ref: Mapped[str | None] = mapped_column(String(64))
    payment_method_id: Mapped[int | None] = mapped_column(ForeignKey("payment_methods.id"))
    # A refund's payment: what it gives back of.
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    actor: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A checkout's page at the provider while it is open, and when it stops taking payment:
    # a second press of the pay button is sent to the same page.
    checkout_url: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Deployment(Base):
    """This installation, once: what tells its provider requests from another's on one
    account (two installations, or a restored copy, must never share idempotency keys)."""

    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_prefix: Mapped[str] = mapped_column(String(32))
    # Signs the invoice links customers open (unless links.secret is set); replacing it
    # revokes every link.
    link_secret: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InvoiceLine(Base):
    """A billed transaction as it was when the invoice was generated."""

    __tablename__ = "invoice_lines"
    __table_args__ = (UniqueConstraint("invoice_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    position: Mapped[int] = mapped_column(Integer)
    transaction_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    retail_cost: Mapped[Decimal] = mapped_column(Thousandths)
    tax_percentage: Mapped[Decimal] = mapped_column(Hundredths)
    tax_amount: Mapped[Decimal] = mapped_column(Thousandths)
    tax_exemption_reason: Mapped[str | None] = mapped_column(String(200))
    # The invoice the credit corrects, as it was cited when this line was billed.
    credited_invoice_number: Mapped[str | None] = mapped_column(String(64))
    credited_invoice_date: Mapped[date | None] = mapped_column(Date)


class InvoicePdfCache(Base):
    """The specification's Invoice_PDF_Cache, named as it is so its SQL snippets work."""

    __tablename__ = "Invoice_PDF_Cache"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), unique=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary().with_variant(mysql.LONGBLOB(), "mysql"))
    filename: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    render_key: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_accessed: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(stored_enum(Role))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    # SHA-256 of the token: tokens are random and long, so a slow hash adds nothing.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Past this moment the token is refused like a revoked one; None: it never expires.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyRecord(Base):
    """The first answer to a keyed request, so a retry gets it back instead of a second effect."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("operation", "scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operation: Mapped[str] = mapped_column(String(40))
    # Who sent the key ("staff", "customer:12"): one customer's keys never meet another's.
    scope: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    result_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InvoiceEvent(Base):
    """Something that happened to an invoice: what, when, who, and the detail that explains it."""

    __tablename__ = "invoice_events"
    __table_args__ = (
        Index("ix_invoice_events_invoice", "invoice_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100))
    # Set when a customer's own token acted: the customer sees "you" there and "staff"
    # everywhere else, never a token's name (the actor column is staff's view).
    actor_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookOutbox(Base):
    """An invoice event an integrator may want, written in the same transaction as the event
    and taken off by the dispatcher when it has made the endpoints' deliveries (the outbox:
    nothing committed is missed, nothing rolled back is announced)."""

    __tablename__ = "webhook_outbox"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("invoice_events.id"), primary_key=True, autoincrement=False
    )
    event: Mapped[InvoiceEvent] = relationship(lazy="raise")


class WebhookEndpoint(Base):
    """An integrator's URL and the event types it wants, with the secret deliveries are
    signed with (kept as is: signing needs it; it is shown once, when made or rotated)."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    # Space-separated event types ("invoice.paid payment.failed").
    events: Mapped[str] = mapped_column(String(400))
    secret: Mapped[str] = mapped_column(String(100))
    # After a rotation the old secret also signs until this moment, so receivers can switch.
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """One event for one endpoint: its frozen JSON body and how sending it has gone."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    # The invoice event it announces: its id is the delivery's event id and sequence.
    event_id: Mapped[int] = mapped_column(ForeignKey("invoice_events.id"))
    event_type: Mapped[str] = mapped_column(String(40))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[WebhookDeliveryStatus] = mapped_column(stored_enum(WebhookDeliveryStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # While SENDING: the moment another worker may take it over (its sender died).
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    # Set on a copy made by redeliverWebhook: the delivery it repeats (no foreign key: a
    # row pointing at its own table would make deleting a log in bulk order-dependent).
    redelivery_of: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PersistedDocument(Base):
    """A GraphQL document a client registered under its SHA-256 (Apollo's automatic
    persisted queries), so later requests send the hash alone; shared by every process."""

    __tablename__ = "persisted_documents"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who registered it (a token's quota) and when it was last sent by hash (the store is
    # least-recently-used first when full; touched at most hourly, not on every request).
    token_id: Mapped[int | None] = mapped_column(Integer, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class ProcessedWebhookEvent(Base):
    """A provider's webhook event already handled, so a redelivery changes nothing."""

    __tablename__ = "processed_webhook_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InvoiceTotals(Base):
    """Invoice counts and totals per customer (0 = all customers), currency, month and
    state, kept in step with every change so the stats widgets never scan the invoices."""

    __tablename__ = "invoice_totals"

    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # Totals never add up different currencies: the cards ask for one.
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    # The month the invoice was created, in the business time zone, as 202501.
    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[InvoiceStatus] = mapped_column(stored_enum(InvoiceStatus), primary_key=True)
    void: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    invoice_count: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[Decimal] = mapped_column(Thousandths, default=Decimal(0))
    # What payments brought in of those invoices: the unpaid card shows total - paid.
    paid: Mapped[Decimal] = mapped_column(Thousandths, default=Decimal(0))


class ReceivableTotals(Base):
    """What the open invoices still ask, per customer (0 = all customers) and the day it
    falls due (their next_due_date), kept in step with every change: the overdue card, the
    overdue count, the aging and the balances read a few thousand rows, never the
    invoices."""

    __tablename__ = "receivable_totals"
    # The days not due yet, in every currency: a few rows of the overdue count (migration
    # 0025); the key, currency before day, would read every day of the customer's.
    __table_args__ = (Index("ix_receivable_totals_customer_due", "customer_id", "falls_due"),)

    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    falls_due: Mapped[date] = mapped_column(Date, primary_key=True)
    invoice_count: Mapped[int] = mapped_column(Integer, default=0)
    due: Mapped[Decimal] = mapped_column(Thousandths, default=Decimal(0))


class InvoiceTitleTotals(Base):
    """How many invoices bear each title, kept in the transaction that issues an invoice
    or changes its title (store/title_totals.py): the search box counts a term's matching
    titles from these few thousand rows, not from an index entry per matching invoice."""

    __tablename__ = "invoice_title_totals"

    title: Mapped[str] = mapped_column(String(255), primary_key=True)
    invoice_count: Mapped[int] = mapped_column(Integer, default=0)


class ReceivableBalance(Base):
    """What the open invoices still ask in all, per customer (0 = all customers) and
    currency: receivable_totals added up over every day, kept in the same statements. The
    overdue count is this less what falls due from today on (a few rows), where summing
    every past day read a row per day of the business's history (3,652 at ten years)."""

    __tablename__ = "receivable_balances"

    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    invoice_count: Mapped[int] = mapped_column(Integer, default=0)
    due: Mapped[Decimal] = mapped_column(Thousandths, default=Decimal(0))


class NumberSeries(Base):
    """The last number taken in each series and period: an invoice takes the next under
    this row's lock, in the transaction that issues it."""

    __tablename__ = "number_series"

    series: Mapped[str] = mapped_column(String(32), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class CustomerNameWord(Base):
    """Each word of a customer's name, folded (model/folding.py): the search box finds a
    customer by a prefix of each word it types, through this table's key. Kept with the
    name in the transaction that writes it (store/search_words.py)."""

    __tablename__ = "customer_name_words"

    word: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)


class InvoiceTitleWord(Base):
    """Each word of each distinct invoice title, folded: titles repeat ("Mobile services -
    March 2024"), so a million invoices hold a few thousand titles, found here by word and
    then their invoices by exact title (ix_invoices_title_id). A title no invoice bears any
    more matches no invoice: harmless, and left."""

    __tablename__ = "invoice_title_words"

    word: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(255), primary_key=True)
