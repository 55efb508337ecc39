"""Money: `Decimal` amounts rounded half up to the currency's minor unit.

How many minor digits a currency has comes from ISO 4217 (through Babel's CLDR data): 2
for USD and EUR, 0 for JPY. Amounts are stored as hundredths (model/columns.py), so the
configuration refuses currencies with more than two (config.py).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
# What a client may send for an amount: ASCII digits, an optional minus and fraction. Not
# "1_000", "1e5", " 5", "+5", ".5", full-width digits or NaN, which Decimal() would take.
_AMOUNT_TEXT = re.compile(r"-?([0-9]+)(?:\.([0-9]+))?")
_AMOUNT_DIGITS = 15  # on each side of the point: more than any column or currency holds


def unsigned_zero(amount: Decimal) -> Decimal:
    """-0.00 as 0.00: a negative zero must never reach a reader."""
    return amount.copy_abs() if amount.is_zero() else amount


@lru_cache(maxsize=64)
def minor_digits(currency: str) -> int:
    """The number of digits after the decimal point in `currency` (ISO 4217)."""
    return int(get_currency_precision(currency.upper()))


def round_money(amount: Decimal, currency: str = "USD") -> Decimal:
    """Round half up to the currency's minor unit (0.005 -> 0.01, -0.005 -> -0.01)."""
    digits = minor_digits(currency)
    rounded = unsigned_zero(amount.quantize(Decimal(10) ** -digits, rounding=ROUND_HALF_UP))
    # Two places at least, as stored and as the API shows amounts ("1000.00").
    return rounded.quantize(CENT) if digits < 2 else rounded


def to_cents(amount: Decimal) -> Decimal:
    """Round to whole cents, half up (never -0.00)."""
    return unsigned_zero(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def to_minor_units(amount: Decimal, currency: str) -> int:
    """The integer a payment provider charges: 12.34 USD -> 1234, 1234 JPY -> 1234."""
    return int(round_money(amount, currency).scaleb(minor_digits(currency)))


def from_minor_units(amount_minor: int, currency: str) -> Decimal:
    """What a payment provider's integer means: 1234 USD -> 12.34."""
    return Decimal(amount_minor).scaleb(-minor_digits(currency))


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
    """Parse a client-sent amount strictly: "-12.50", "3", or a JSON number written that
    way (19.95, never 1e-05); anything else is refused.

    How many decimals an amount may have depends on the field (a JPY price has none), so
    that is checked where the field is known (validation.amount), with the field named."""
    raw = str(text)
    shape = _AMOUNT_TEXT.fullmatch(raw)
    if not shape:
        raise ValueError(
            f"{raw[:40]!r} is not an amount: digits with an optional minus sign and "
            'decimal point, e.g. "-12.50"'
        )
    whole, fraction = shape.group(1), shape.group(2) or ""
    if len(whole.lstrip("0")) > _AMOUNT_DIGITS:
        raise ValueError(
            f"{raw[:40]!r} is too large for an amount: at most {_AMOUNT_DIGITS} digits "
            "before the decimal point"
        )
    if len(fraction) > _AMOUNT_DIGITS:
        raise ValueError(f"{raw[:40]!r} has too many decimals for an amount")
    return unsigned_zero(Decimal(raw))
