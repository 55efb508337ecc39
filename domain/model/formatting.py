"""The one place amounts and dates become text, per locale (Babel's CLDR data).

Templates (the `money` and `long_date` filters), the invoice email, the pay page, the
stats widgets' `display` and an invoice line's `taxDisplay` all format through a
`Formatter`, so a Spanish customer reads 1.234,50 € in the PDF and in the email alike.
Where the symbol goes, how digits are grouped and how many minor digits show all come from
the locale and the currency (ISO 4217): €1,234.50, 1.234,50 €, ¥1,650, KWD 12.345.
`business.currency_symbol`, when set, replaces the symbol of the business's own currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Protocol

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, get_currency_symbol

from domain.model.money import round_money

_COMPACT_STEPS = ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "k"))
FALLBACK_LOCALE = "en"
_NBSP = "\u00a0"


class Business(Protocol):
    """What formatting needs of the business settings."""

    @property
    def currency_code(self) -> str: ...

    @property
    def currency_symbol(self) -> str | None: ...


@lru_cache(maxsize=256)
def _known(locale: str) -> str:
    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError, TypeError):
        return FALLBACK_LOCALE
    return locale


@lru_cache(maxsize=256)
def _affixes(locale: str, symbol: str) -> tuple[str, str]:
    """What the locale writes before and after a positive amount in `currency` (the symbol
    with CLDR's currency spacing: a letter never touches a digit, "KWD 12.345")."""
    pattern = Locale.parse(locale).currency_formats["standard"]
    prefix, suffix = (
        part[0].replace("\u00a4", symbol) for part in (pattern.prefix, pattern.suffix)
    )
    if prefix and prefix[-1].isalpha():
        prefix += _NBSP
    if suffix and suffix[0].isalpha():
        suffix = _NBSP + suffix
    return prefix, suffix


@dataclass(frozen=True)
class Formatter:
    currency_code: str
    locale: str = FALLBACK_LOCALE
    # Replaces CLDR's symbol for this currency (business.currency_symbol); None: CLDR's.
    symbol_override: str | None = None

    def __post_init__(self) -> None:
        # A language CLDR does not know (a customer's "xx") reads as English, not an error.
        object.__setattr__(self, "locale", _known(self.locale))

    @classmethod
    def of(cls, business: Business, locale: str, currency: str | None = None) -> Formatter:
        """Amounts in `currency` (default: the business's) as `locale` writes them."""
        code = currency or business.currency_code
        override = business.currency_symbol if code == business.currency_code else None
        return cls(code, locale, override)

    @property
    def symbol(self) -> str:
        return self.symbol_override or get_currency_symbol(self.currency_code, self.locale)

    def _placed(self, number: str, negative: bool) -> str:
        prefix, suffix = _affixes(self.locale, self.symbol)
        return f"{'-' if negative else ''}{prefix}{number}{suffix}"

    def money(self, amount: Decimal | float | int | str) -> str:
        """$1,234.50 in English, 1.234,50 US$ in Spanish, ¥1,650, -$5.00 below zero."""
        rounded = round_money(Decimal(str(amount)), self.currency_code)
        # Babel's digits for the currency, grouping and decimal sign for the locale; the
        # symbol placed by the locale's pattern (with its spacing, and any override).
        number = format_currency(
            abs(rounded), self.currency_code, format="#,##0.00", locale=self.locale
        )
        return self._placed(number, rounded < 0)

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
        return self._placed(number + suffix, amount < 0)

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
