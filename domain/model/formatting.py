"""The one place amounts and dates become text, per locale (Babel's CLDR data).

Templates (the `money` and `long_date` filters), the invoice email, the stats widgets'
`display` and an invoice line's `taxDisplay` all format through a `Formatter`, so a
Spanish customer reads $1.234,50 in the PDF and in the email alike. The symbol is the
business's configured one (business.currency_symbol); the digits after the decimal point
are the currency's (ISO 4217).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Protocol

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_decimal

from domain.model.money import minor_digits, round_money

_COMPACT_STEPS = ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "k"))
FALLBACK_LOCALE = "en"


class Currency(Protocol):
    """What formatting needs of the business settings."""

    @property
    def currency_code(self) -> str: ...

    @property
    def currency_symbol(self) -> str: ...


@lru_cache(maxsize=256)
def _known(locale: str) -> str:
    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError, TypeError):
        return FALLBACK_LOCALE
    return locale


@dataclass(frozen=True)
class Formatter:
    currency_code: str
    symbol: str
    locale: str = FALLBACK_LOCALE

    def __post_init__(self) -> None:
        # A language CLDR does not know (a customer's "xx") reads as English, not an error.
        object.__setattr__(self, "locale", _known(self.locale))

    @classmethod
    def of(cls, currency: Currency, locale: str = FALLBACK_LOCALE) -> Formatter:
        return cls(currency.currency_code, currency.currency_symbol, locale)

    def money(self, amount: Decimal | float | int | str) -> str:
        """$1,234.50 in English, $1.234,50 in Spanish, -$5.00 below zero."""
        rounded = round_money(Decimal(str(amount)), self.currency_code)
        digits = minor_digits(self.currency_code)
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        number = format_decimal(abs(rounded), format=pattern, locale=self.locale)
        return f"{'-' if rounded < 0 else ''}{self.symbol}{number}"

    def compact(self, amount: Decimal) -> str:
        """Stats widgets: $950.00 below a thousand, then $1.5k, $2.3M, $1.1B (one decimal)."""
        magnitude = abs(amount)
        if round_money(magnitude, self.currency_code) < 1000:
            return self.money(amount)
        # The smallest unit whose rounded figure stays under a thousand: 999,999.99 reads
        # $1.0M, never $1000.0k.
        for step, suffix in reversed(_COMPACT_STEPS):  # k, M, B
            scaled = (magnitude / step).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            if scaled < 1000 or suffix == "B":
                break
        number = format_decimal(scaled, format="0.0", locale=self.locale)
        return f"{'-' if amount < 0 else ''}{self.symbol}{number}{suffix}"

    def percent(self, value: Decimal) -> str:
        """10, 10.5: a tax percentage without trailing zeros."""
        return format_decimal(value.normalize(), format="0.##", locale=self.locale)

    def long_date(self, value: date | datetime | str | None) -> str:
        """January 10, 2025 / 10 de enero de 2025."""
        if not value:
            return ""
        if isinstance(value, datetime):
            day = value.date()
        elif isinstance(value, date):
            day = value
        else:
            day = datetime.fromisoformat(str(value)).date()
        return str(format_date(day, format="long", locale=self.locale))


def utc_milliseconds(value: datetime) -> str:
    """One form for every moment handed out (the API's DateTime, webhook bodies): UTC, `Z`,
    milliseconds."""
    moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
