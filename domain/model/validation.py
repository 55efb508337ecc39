"""Checks on values coming in from users, each raising InvalidInput naming the field."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from email_validator import EmailNotValidError, validate_email

from domain.errors import InvalidInput
from domain.model.einvoice import ElectronicAddress
from domain.model.money import decimal_places, is_currency, minor_digits

_LANGUAGE = re.compile(r"^[a-z]{2}$")
# Stored as integer thousandths in a BIGINT; far beyond any real invoice line.
MAX_AMOUNT = Decimal("1000000000000")


def label(field: str) -> str:
    """A field path as a person reads it: address.zip_code -> Zip code."""
    return field.rsplit(".", 1)[-1].replace("_", " ").capitalize()


def required_text(field: str, value: str | None, max_length: int) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(field, f"{label(field)} must not be empty.")
    return one_line(field, bounded_text(field, text, max_length))


def one_line(field: str, value: str) -> str:
    """Names, titles and address lines are one line of text: a line break or another
    control character in a name would end up in an email header or a PDF's layout."""
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
        raise InvalidInput(
            field, f"{label(field)} must be one line of text, without line breaks or tabs."
        )
    return value


def bounded_text(field: str, value: str, max_length: int) -> str:
    if len(value) > max_length:
        raise InvalidInput(field, f"{label(field)} must be at most {max_length} characters.")
    return value


def optional_text(field: str, value: str | None, max_length: int) -> str | None:
    text = (value or "").strip()
    return one_line(field, bounded_text(field, text, max_length)) if text else None


def language(field: str, value: str, offered: list[str]) -> str:
    """One of the `offered` languages (business.languages), as a two-letter code."""
    code = value.strip().lower()
    if not _LANGUAGE.match(code):
        raise InvalidInput(
            field, f"{label(field)} must be a two-letter language code such as en or es."
        )
    if code not in offered:
        raise InvalidInput(
            field, f"{label(field)} {code!r} is not offered; choose one of {', '.join(offered)}."
        )
    return code


def email(field: str, value: str) -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(field, f"{label(field)} is not a valid email address: {exc}") from None


def amount(field: str, value: Decimal, currency: str, *, allow_zero: bool = False) -> Decimal:
    """An amount in `currency`: no more decimals than its minor unit (2 for USD, 0 for
    JPY, 3 for KWD)."""
    digits = minor_digits(currency)
    if decimal_places(value) > digits:
        places = {0: "no decimals", 1: "at most one decimal", 2: "at most two decimals"}.get(
            digits, f"at most {digits} decimals"
        )
        raise InvalidInput(field, f"{label(field)} may have {places} in {currency}.")
    if not allow_zero and value == 0:
        raise InvalidInput(field, f"{label(field)} must not be zero.")
    if abs(value) >= MAX_AMOUNT:
        raise InvalidInput(field, f"{label(field)} is too large.")
    return value


def currency(field: str, value: str) -> str:
    """An ISO 4217 code ("eur" reads as EUR)."""
    code = value.strip().upper()
    if not is_currency(code):
        raise InvalidInput(
            field,
            f"{label(field)} {value.strip()[:10]!r} is not an ISO 4217 currency code, "
            "such as USD, EUR or JPY.",
        )
    return code


def percentage(field: str, value: Decimal) -> Decimal:
    if decimal_places(value) > 2:
        raise InvalidInput(field, f"{label(field)} may have at most two decimals.")
    if not 0 <= value <= 100:
        raise InvalidInput(field, f"{label(field)} must be between 0 and 100.")
    return value


def exemption_reason(field: str, value: str | None, tax_percentage: Decimal) -> str | None:
    """Why an untaxed line is exempt (an e-invoice's category E, BT-120). Only a line taxed
    at 0 % can be exempt; taxed lines are standard rated."""
    reason = optional_text(field, value, 200)
    if reason is not None and tax_percentage != 0:
        raise InvalidInput(
            field,
            f"{label(field)} is for untaxed charges: the tax percentage is {tax_percentage}, "
            "not 0.",
        )
    return reason


_TAX_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./-]{1,62}")


def tax_id(field: str, value: str | None) -> str | None:
    """A VAT number with its country prefix (DE123456789) or a business number
    (51824753556): letters, digits, spaces, dots, slashes and dashes."""
    text = optional_text(field, value, 64)
    if text is not None and not _TAX_ID.fullmatch(text):
        raise InvalidInput(
            field,
            f"{label(field)} must be a VAT or business number such as DE123456789 or "
            "51 824 753 556 (letters, digits, spaces, dots, slashes, dashes).",
        )
    return text


def electronic_address(field: str, value: str | None) -> str | None:
    """A Peppol participant id, scheme:id (0151:51824753556), written back normalised."""
    text = optional_text(field, value, 200)
    if text is None:
        return None
    try:
        return str(ElectronicAddress.parse(text))
    except ValueError as error:
        raise InvalidInput(field, f"{label(field)}: {error}") from None


MAX_SEARCH_LENGTH = 200


def search_term(value: str | None) -> str:
    """A search box's text, trimmed ("" for none); longer than anyone types, it is refused
    (SQLite refuses LIKE patterns past 50,000 bytes, and nobody means one)."""
    text = (value or "").strip()
    if len(text) > MAX_SEARCH_LENGTH:
        raise InvalidInput("search", f"Search must be at most {MAX_SEARCH_LENGTH} characters.")
    return text
