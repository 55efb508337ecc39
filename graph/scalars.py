"""The contract's scalars, parsed strictly: money as a string with two fraction digits (three where the currency has them), and
dates within the range the service supports (model/periods.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

import strawberry
from strawberry.types.scalar import ScalarDefinition

from domain.model.formatting import utc_milliseconds
from domain.model.money import canonical, parse_decimal
from domain.model.periods import supported_day


def _serialize_decimal(value: Decimal) -> str:
    return str(canonical(value))


def _parse_decimal(value: object) -> Decimal:
    # Strings are the documented form; JSON numbers are accepted through their text so
    # that 19.95 stays 19.95 rather than a binary float's neighbour.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError('Decimal values are sent as strings, e.g. "19.95".')
    return parse_decimal(value)


def _text(value: object, kind: str, example: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{kind} values are sent as strings, e.g. {example!r}.")
    return value


def parse_date(value: object) -> date:
    """A Date as clients send it (also in the PDF routes' query strings)."""
    text = _text(value, "Date", "2025-01-31")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a date like 2025-01-31") from None
    return supported_day(day)


def _parse_datetime(value: object) -> datetime:
    text = _text(value, "DateTime", "2025-01-31T09:30:00Z")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text[:40]!r} is not a date and time like 2025-01-31T09:30:00Z"
        ) from None
    # Checked on the day as written, before any conversion to UTC can overflow.
    supported_day(moment.date())
    return moment


def _isoformat(value: date) -> str:
    return value.isoformat()


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description=(
        'An exact amount: a string with exactly two fraction digits, e.g. "19.95" or '
        '"-5.00" (an xsd:decimal lexical form; never a JSON number, which would be a float).'
    ),
    specified_by_url="https://www.w3.org/TR/xmlschema11-2/#decimal",
    serialize=_serialize_decimal,
    parse_value=_parse_decimal,
)
DateScalar = strawberry.scalar(
    name="Date",
    description='A calendar day, RFC 3339 full-date: "2025-01-31".',
    specified_by_url="https://www.rfc-editor.org/rfc/rfc3339#section-5.6",
    serialize=_isoformat,
    parse_value=parse_date,
)
DateTimeScalar = strawberry.scalar(
    name="DateTime",
    description=(
        "A moment, RFC 3339 date-time, always in UTC with milliseconds: "
        '"2025-01-31T09:30:00.000Z". Accepted in any RFC 3339 form (without an offset: UTC).'
    ),
    specified_by_url="https://scalars.graphql.org/andimarek/date-time.html",
    serialize=utc_milliseconds,
    parse_value=_parse_datetime,
)

SCALARS: Mapping[object, ScalarDefinition] = {
    Decimal: DecimalScalar,
    date: DateScalar,
    datetime: DateTimeScalar,
}
