"""Business refusals. Each carries a stable code from the API contract.

    DomainError(code, message, field=None)
     ├── NotFound            NOT_FOUND         the object does not exist (or is not the viewer's)
     ├── InvalidInput        INVALID_INPUT     a value breaks a rule; `field` names it
     ├── Forbidden           FORBIDDEN         the viewer's role may not do this
     └── DomainError(...)    any other contract code (TRANSACTION_BILLED, ALREADY_PAID, ...)

Payment refusals say whether trying again can help: PAYMENT_PROVIDER_ERROR (the provider
failed for now: try again), PAYMENT_REJECTED (the provider refused the request itself: an
operator must look), PAYMENT_DECLINED (the card), PAYMENT_IN_PROGRESS (another attempt is
open), NOT_PAYABLE (a credit note is settled, not paid).

E-invoices: EINVOICE_INVALID (the invoice breaks EN 16931 rules: Invoice.eInvoice says
which), EINVOICE_UNAVAILABLE (the rules could not be run: an operator must look).

The GraphQL layer turns every DomainError into a `UserError` in the payload; nothing a
DomainError interrupts is committed.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    NO_TRANSACTIONS = "NO_TRANSACTIONS"
    TRANSACTION_UNAVAILABLE = "TRANSACTION_UNAVAILABLE"
    TRANSACTION_BILLED = "TRANSACTION_BILLED"
    ALREADY_VOID = "ALREADY_VOID"
    ALREADY_PAID = "ALREADY_PAID"
    NOT_PAID = "NOT_PAID"
    ALREADY_REFUNDED = "ALREADY_REFUNDED"
    NOT_REFUNDABLE = "NOT_REFUNDABLE"
    NO_PAYMENT_METHOD = "NO_PAYMENT_METHOD"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    PAYMENT_PROVIDER_ERROR = "PAYMENT_PROVIDER_ERROR"
    NO_RECIPIENT = "NO_RECIPIENT"
    EMAIL_PROVIDER_ERROR = "EMAIL_PROVIDER_ERROR"
    ATTACHMENT_TOO_LARGE = "ATTACHMENT_TOO_LARGE"
    PDF_RENDER_FAILED = "PDF_RENDER_FAILED"
    EMAIL_TEMPLATE_FAILED = "EMAIL_TEMPLATE_FAILED"
    PAYMENT_REJECTED = "PAYMENT_REJECTED"
    PAYMENT_IN_PROGRESS = "PAYMENT_IN_PROGRESS"
    NOT_PAYABLE = "NOT_PAYABLE"
    TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"
    EINVOICE_INVALID = "EINVOICE_INVALID"
    EINVOICE_UNAVAILABLE = "EINVOICE_UNAVAILABLE"
    AMOUNT_ABOVE_DUE = "AMOUNT_ABOVE_DUE"
    PLAN_EXISTS = "PLAN_EXISTS"
    CURRENCY_IN_USE = "CURRENCY_IN_USE"


MAX_MESSAGE = 500  # characters: a message quotes at most this much of anything it was sent


def clipped(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class DomainError(Exception):
    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        message = clipped(message)
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class NotFound(DomainError):
    def __init__(self, what: str, ident: object, field: str | None = None) -> None:
        super().__init__(
            ErrorCode.NOT_FOUND, f"{what} {clipped(str(ident), 60)} does not exist.", field
        )


class InvalidInput(DomainError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(ErrorCode.INVALID_INPUT, message, field)


class Forbidden(DomainError):
    def __init__(self, message: str = "Only staff may do this.") -> None:
        super().__init__(ErrorCode.FORBIDDEN, message)
