"""The contract's Decimal scalar: money travels as a string with two fraction digits."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from domain.model.money import parse_decimal, to_cents


def _serialize(value: Decimal) -> str:
    return str(to_cents(value))


def _parse(value: object) -> Decimal:
    # Strings are the documented form; JSON numbers are accepted through their text so
    # that 19.95 stays 19.95 rather than a binary float's neighbour.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError('Decimal values are sent as strings, e.g. "19.95".')
    return parse_decimal(value)


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description='An exact amount as a string with two fraction digits, e.g. "19.95".',
    serialize=_serialize,
    parse_value=_parse,
)
