"""Money: `Decimal` amounts rounded half up to the currency's minor unit.

How many minor digits a currency has comes from ISO 4217 (through Babel's CLDR data): 2
for USD and EUR, 0 for JPY. Amounts are stored as hundredths (model/columns.py), so the
configuration refuses currencies with more than two (config.py).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import get_currency_precision

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


@lru_cache(maxsize=64)
def minor_digits(currency: str) -> int:
    """The number of digits after the decimal point in `currency` (ISO 4217)."""
    return int(get_currency_precision(currency.upper()))


def round_money(amount: Decimal, currency: str = "USD") -> Decimal:
    """Round half up to the currency's minor unit (0.005 -> 0.01, -0.005 -> -0.01)."""
    digits = minor_digits(currency)
    rounded = amount.quantize(Decimal(10) ** -digits, rounding=ROUND_HALF_UP)
    # Two places at least, as stored and as the API shows amounts ("1000.00").
    return rounded.quantize(CENT) if digits < 2 else rounded


def to_cents(amount: Decimal) -> Decimal:
    """Round to whole cents, half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """The integer a payment provider charges: 12.34 USD -> 1234, 1234 JPY -> 1234."""
    return int(round_money(amount, currency).scaleb(minor_digits(currency)))


def tax_amount(retail_cost: Decimal, tax_percentage: Decimal, currency: str = "USD") -> Decimal:
    """Tax of one line: cost x percentage / 100, rounded half up to the minor unit."""
    return round_money(retail_cost * tax_percentage / HUNDRED, currency)


def total_of(amounts: list[Decimal]) -> Decimal:
    """Totals are sums of amounts already rounded per line."""
    return sum(amounts, ZERO)


def decimal_places(amount: Decimal) -> int:
    exponent = amount.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def parse_decimal(text: str | int | float | Decimal) -> Decimal:
    """Parse a client-sent amount; refuses NaN, infinities and garbage."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return value
