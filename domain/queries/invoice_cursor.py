"""The cursor of the invoices list: where a page ended, in the sort it was read in.

Opaque to clients (base64 of JSON): the sort, and the last invoice's sort value and id.
The next page starts right after that pair in the sort index, which costs the same at
page 1 and at page 40,000, unlike an offset, which reads and skips every earlier row."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from domain.errors import InvalidInput
from domain.model.entities import Invoice
from domain.model.enums import InvoiceStatus

_INVALID = "The cursor (after) is not one this list gave out for this sort."


def _value_text(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, InvoiceStatus):
        return value.value
    return str(value)


def _value_of(field: str, text: str) -> Any:
    if field == "CREATED":
        return datetime.fromisoformat(text)
    if field == "DUE_DATE":
        return date.fromisoformat(text)
    if field == "AMOUNT":
        return Decimal(text)
    if field == "STATUS":
        return InvoiceStatus(text)
    if field == "ID":
        return int(text)
    return text


def encode(field: str, descending: bool, value: Any, invoice_id: int) -> str:
    raw = json.dumps([field, descending, _value_text(value), invoice_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str, field: str, descending: bool) -> tuple[Any, int]:
    """The (sort value, id) a cursor points after; INVALID_INPUT on `after` otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        given_field, given_descending, text, invoice_id = json.loads(raw)
        if (given_field, given_descending) != (field, descending) or type(invoice_id) is not int:
            raise ValueError
        return _value_of(field, str(text)), invoice_id
    except (ValueError, TypeError, binascii.Error, InvalidOperation, UnicodeDecodeError):
        raise InvalidInput("after", _INVALID) from None


def after(column: Any, descending: bool, value: Any, invoice_id: int) -> ColumnElement[bool]:
    """Rows after (value, id) in the order (column, id): written with a leading range on
    the column alone, so the (column, id) index is entered at the cursor, not scanned."""
    if column is Invoice.id:
        by_id: ColumnElement[bool] = (
            Invoice.id < invoice_id if descending else Invoice.id > invoice_id
        )
        return by_id
    if descending:
        return and_(column <= value, or_(column < value, Invoice.id < invoice_id))
    return and_(column >= value, or_(column > value, Invoice.id > invoice_id))
