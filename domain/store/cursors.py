"""Cursors for lists that page by keyset: where a page ended, in the order it was read in.

Opaque to clients (base64 of JSON): the list's order, and the last row's sort value and id.
The next page starts right after that pair in the (column, id) index, which costs the same
at page 1 and at page 40,000, unlike an offset, which reads and skips every earlier row."""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from domain.errors import InvalidInput

_INVALID = "The cursor (after) is not one this list gave out for this order."


def _text(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


@dataclass(frozen=True)
class Keyset:
    """A list's order: `column` then `id_column`, both one way; `parse` reads a sort value
    back from its text."""

    name: str
    column: Any
    id_column: Any
    descending: bool
    parse: Callable[[str], Any] = str

    def cursor(self, row: Any) -> str:
        value = getattr(row, self.column.key)
        raw = json.dumps(
            [self.name, self.descending, _text(value), getattr(row, self.id_column.key)],
            separators=(",", ":"),
        )
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def after(self, cursor: str) -> ColumnElement[bool]:
        """Rows after the cursor; INVALID_INPUT on `after` for a cursor of another list or
        order, or a made-up one."""
        return self.beyond(*self.position(cursor))

    def position(self, cursor: str) -> tuple[Any, int]:
        """The sort value and id a cursor ends at; INVALID_INPUT as for `after`."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            name, descending, text, last_id = json.loads(raw)
            if (name, descending) != (self.name, self.descending) or type(last_id) is not int:
                raise ValueError
            value = self.parse(str(text))
        except (ValueError, TypeError, binascii.Error, InvalidOperation, UnicodeDecodeError):
            raise InvalidInput("after", _INVALID) from None
        return value, last_id

    def beyond(self, value: Any, last_id: Any) -> ColumnElement[bool]:
        """Rows after (value, last_id), which may be bound parameters: written with a
        leading range on the column alone, so the (column, id) index is entered there, not
        scanned."""
        column, ids = self.column, self.id_column
        if column is ids:
            by_id: ColumnElement[bool] = ids < last_id if self.descending else ids > last_id
            return by_id
        if self.descending:
            return and_(column <= value, or_(column < value, ids < last_id))
        return and_(column >= value, or_(column > value, ids > last_id))
