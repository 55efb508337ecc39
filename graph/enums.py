"""The domain's enums, registered with Strawberry under their API names: the API shows
exactly the values the business knows, and resolvers return the domain values as they are."""

from __future__ import annotations

import enum

import strawberry

from domain.errors import ErrorCode
from domain.model.einvoice import TaxCategory
from domain.model.enums import (
    ContactType,
    EInvoiceFormat,
    EventKind,
    InvoiceStatus,
    PaymentMethodKind,
    Role,
    TransactionKind,
)
from domain.model.invoice_rules import Action
from domain.queries.invoice_stats import Trend
from domain.queries.invoices import PaymentFilter, SortField, VoidFilter

strawberry.enum(ErrorCode, name="ErrorCode")
strawberry.enum(Role, name="Role")
strawberry.enum(ContactType, name="ContactType")
strawberry.enum(TransactionKind, name="TransactionKind")
strawberry.enum(InvoiceStatus, name="InvoiceStatus")
strawberry.enum(PaymentMethodKind, name="PaymentMethodKind")
strawberry.enum(EventKind, name="InvoiceEventKind")
strawberry.enum(Action, name="InvoiceAction")
strawberry.enum(VoidFilter, name="VoidFilter")
strawberry.enum(
    PaymentFilter,
    name="PaymentFilter",
    description="PAID: status PAID or REFUNDED. UNPAID: status UNPAID.",
)
strawberry.enum(SortField, name="InvoiceSortField")
strawberry.enum(Trend, name="Trend")
strawberry.enum(
    TaxCategory,
    name="TaxCategory",
    description="An e-invoice line's tax category (UNTDID 5305): STANDARD (S), ZERO_RATED (Z), EXEMPT (E).",
)
strawberry.enum(
    EInvoiceFormat,
    name="EInvoiceFormat",
    description="The e-invoice a customer receives beside the PDF: NONE, FACTURX (the PDF "
    "itself as PDF/A-3 with the EN 16931 CII XML inside) or UBL (Peppol BIS Billing 3.0 "
    "XML at /crm/invoice/{id}/ubl).",
)


@strawberry.enum
class SortDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


__all__ = [
    "Action",
    "ContactType",
    "EInvoiceFormat",
    "ErrorCode",
    "EventKind",
    "InvoiceStatus",
    "PaymentFilter",
    "PaymentMethodKind",
    "Role",
    "SortDirection",
    "SortField",
    "TaxCategory",
    "TransactionKind",
    "Trend",
    "VoidFilter",
]
