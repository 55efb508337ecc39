"""Money: `Decimal` amounts in cents, rounded half up, and the one place that formats them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


def to_cents(amount: Decimal) -> Decimal:
    """Round to whole cents, half up (0.005 -> 0.01, -0.005 -> -0.01)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def tax_amount(retail_cost: Decimal, tax_percentage: Decimal) -> Decimal:
    """Tax of one line: cost x percentage / 100, rounded half up to cents."""
    return to_cents(retail_cost * tax_percentage / HUNDRED)


def decimal_places(amount: Decimal) -> int:
    exponent = amount.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def parse_decimal(text: str | int | Decimal) -> Decimal:
    """Parse a client-sent amount; refuses NaN, infinities and garbage."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return value


def format_money(amount: Decimal, symbol: str) -> str:
    """$1,234.50 and -$5.00, as lists and details show amounts."""
    cents = to_cents(amount)
    sign = "-" if cents < 0 else ""
    return f"{sign}{symbol}{abs(cents):,.2f}"


_COMPACT_STEPS = ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "k"))


def format_compact(amount: Decimal, symbol: str) -> str:
    """Stats widgets: $950.00 below a thousand, then $1.5k, $2.3M, $1.1B (one decimal)."""
    magnitude = abs(amount)
    for step, suffix in _COMPACT_STEPS:
        if magnitude >= step:
            scaled = (magnitude / step).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            sign = "-" if amount < 0 else ""
            return f"{sign}{symbol}{scaled}{suffix}"
    return format_money(amount, symbol)
