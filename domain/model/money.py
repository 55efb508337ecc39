"""Money: `Decimal` amounts rounded half up to the currency's minor unit.

How many minor digits a currency has comes from ISO 4217 (through Babel's CLDR data): 2
for USD and EUR, 0 for JPY, 3 for KWD. Amounts are stored as integer thousandths
(model/columns.py), so every currency's minor unit is exact in storage; currencies with
more than three (none in ISO 4217 today) are refused where a currency is chosen.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision, list_currencies

CENT = Decimal("0.01")
MILL = Decimal("0.001")
MAX_MINOR_DIGITS = 3  # what the thousandths columns hold
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


def is_currency(code: str) -> bool:
    """An ISO 4217 code whose minor unit the money columns can hold exactly."""
    return code in _currencies() and minor_digits(code) <= MAX_MINOR_DIGITS


@lru_cache(maxsize=1)
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def round_money(amount: Decimal, currency: str = "USD") -> Decimal:
    """Round half up to the currency's minor unit (0.005 -> 0.01, -0.005 -> -0.01)."""
    digits = minor_digits(currency)
    rounded = amount.quantize(Decimal(10) ** -digits, rounding=ROUND_HALF_UP)
    return canonical(rounded)


def canonical(amount: Decimal) -> Decimal:
    """The one written form of an amount, as stored and as the API shows it: two places at
    least ("1650.00" yen, "1000.00" dollars), three when the third is needed ("12.345"
    dinars), to the mill at most, never -0.00."""
    milled = amount.quantize(MILL, rounding=ROUND_HALF_UP)
    cents = milled.quantize(CENT)
    return unsigned_zero(cents if cents == milled else milled)


def to_stored(amount: Decimal) -> int:
    """An amount as the money columns keep it: an integer count of thousandths."""
    scaled = Decimal(amount).scaleb(MAX_MINOR_DIGITS)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more than {MAX_MINOR_DIGITS} fraction digits")
    return int(scaled)


def from_stored(thousandths: int | Decimal) -> Decimal:
    """What a money column (or a SUM of one) holds, as an amount, in canonical form. Every
    amount of every page is read through here, so the form is made from the integer (whole
    cents: two places, else three) rather than by canonical()'s two quantizations."""
    count = int(thousandths)
    if count % 10:
        return Decimal(count).scaleb(-MAX_MINOR_DIGITS)
    return Decimal(count // 10).scaleb(-2)


# The card provider's (Stripe's) minor units are ISO 4217's, but for two cases
# (docs.stripe.com/currencies): ISK, zero-decimal in ISO, is written with two decimals; and
# a three-decimal currency's amount must end in 0 (whole tens of fils).
_WRITTEN_WITH_TWO_DECIMALS = frozenset({"ISK"})
_CHARGED_IN_TENS = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def _provider_digits(currency: str) -> int:
    return 2 if currency.upper() in _WRITTEN_WITH_TWO_DECIMALS else minor_digits(currency)


def card_chargeable(amount: Decimal, currency: str) -> bool:
    """Whether the card provider can take exactly this amount (12.340 KWD, not 12.345)."""
    if currency.upper() in _CHARGED_IN_TENS:
        return amount == amount.quantize(CENT)
    return amount == round_money(amount, currency)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """The integer the card provider charges: 12.34 USD -> 1234, 1650 JPY -> 1650,
    12.34 KWD -> 12340, 5 ISK -> 500."""
    return int(round_money(amount, currency).scaleb(_provider_digits(currency)))


def from_minor_units(amount_minor: int, currency: str) -> Decimal:
    """What the card provider's integer means: 1234 USD -> 12.34, 1650 JPY -> 1650."""
    return canonical(Decimal(amount_minor).scaleb(-_provider_digits(currency)))


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
