"""Column types that keep money and time exact on SQLite and MariaDB alike.

- Money is stored as integer thousandths (the smallest minor unit of ISO 4217's
  currencies, KWD's fils) and percentages as integer hundredths, so they are exact on both
  and SUM/ORDER BY work in SQL (SQLite has no decimal type; its NUMERIC goes through float).
- Times are stored as naive UTC and come back timezone-aware.
- Enums are plain strings with a CHECK, so adding a value never needs ALTER TYPE.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Enum
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from domain.model.money import from_stored, to_stored


class Hundredths(TypeDecorator[Decimal]):
    """A percentage (at most two fraction digits), stored as an integer count of
    hundredths. Money was too until migration 0020; the older migrations still name it."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value).scaleb(2)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than two fraction digits")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        # SUM() comes back as int (SQLite) or Decimal (MariaDB); both are exact.
        return Decimal(int(value)).scaleb(-2)


class Thousandths(TypeDecorator[Decimal]):
    """An amount of money (at most three fraction digits), stored as an integer count of
    thousandths; it reads back in its canonical form (model/money.canonical)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else to_stored(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        # SUM() comes back as int (SQLite) or Decimal (MariaDB); both are exact.
        return None if value is None else from_stored(value)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime, stored naive (neither SQLite nor DATETIME keep zones)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def stored_enum(cls: type[enum.Enum]) -> Enum:
    return Enum(
        cls, native_enum=False, create_constraint=True, length=16, name=cls.__name__.lower()
    )
