from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.model.formatting import Formatter
from domain.model.money import (
    canonical,
    from_stored,
    parse_decimal,
    round_money,
    tax_amount,
    to_stored,
)


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("-0.005", "-0.01"),
        ("2.675", "2.68"),
        ("1.125", "1.13"),
    ],
)
def test_rounding_is_half_up_to_cents(amount: str, cents: str) -> None:
    assert round_money(Decimal(amount), "USD") == Decimal(cents)


def test_tax_of_a_line_is_rounded_half_up() -> None:
    assert tax_amount(Decimal("0.10"), Decimal("21")) == Decimal("0.02")  # 0.021
    assert tax_amount(Decimal("0.50"), Decimal("21")) == Decimal("0.11")  # 0.105
    assert tax_amount(Decimal("-10.00"), Decimal("10")) == Decimal("-1.00")
    assert tax_amount(Decimal("99.99"), Decimal("0")) == Decimal("0.00")


def test_three_lines_at_ten_cents_and_21_percent_total_the_rounded_lines() -> None:
    lines = [tax_amount(Decimal("0.10"), Decimal("21")) for _ in range(3)]
    assert sum(lines) == Decimal("0.06")  # not 0.063 rounded once to 0.06 by luck: 3 x 0.02


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("950", "$950.00"),
        ("999.99", "$999.99"),
        ("1000", "$1.0k"),
        ("1500", "$1.5k"),
        ("2300000", "$2.3M"),
        ("1100000000", "$1.1B"),
        ("-1500", "-$1.5k"),
        ("0", "$0.00"),
    ],
)
def test_widgets_show_amounts_compactly(amount: str, shown: str) -> None:
    assert Formatter("USD").compact(Decimal(amount)) == shown


def test_money_is_formatted_with_the_currencys_symbol_or_the_configured_one() -> None:
    assert Formatter("EUR").money(Decimal("1234.5")) == "€1,234.50"
    assert Formatter("USD").money(Decimal("-5")) == "-$5.00"
    assert Formatter("AUD", "en", "A$").money(Decimal("5")) == "A$5.00"


def test_amounts_are_stored_as_thousandths_and_read_back_in_one_written_form() -> None:
    assert to_stored(Decimal("12.345")) == 12345 and to_stored(Decimal("1650")) == 1650000
    assert str(from_stored(12345)) == "12.345"
    assert str(from_stored(1650000)) == "1650.00"  # two places at least, as the API shows
    assert str(from_stored(12340)) == "12.34"
    assert str(from_stored(-20)) == "-0.02" and str(from_stored(-15)) == "-0.015"
    assert str(from_stored(0)) == "0.00" and str(from_stored(Decimal(7))) == "0.007"
    assert str(canonical(Decimal("-0.0004"))) == "0.00"
    with pytest.raises(ValueError):
        to_stored(Decimal("0.0001"))  # finer than any currency's minor unit


@pytest.mark.parametrize(
    "text",
    ["abc", "NaN", "Infinity", "", "1e", "1_000", "１２３", "1e5", " 5", "+5", ".5", "5.", "0x10"],
)
def test_parse_refuses_anything_but_plain_digits(text: str) -> None:
    with pytest.raises(ValueError):
        parse_decimal(text)


def test_parse_keeps_the_exact_value() -> None:
    assert parse_decimal("19.95") == Decimal("19.95")
    assert parse_decimal(19.95) == Decimal("19.95")


def test_a_negative_zero_is_never_shown() -> None:
    assert str(parse_decimal("-0.00")) == "0.00"
    assert str(round_money(Decimal("-0.004"), "USD")) == "0.00"
    assert Formatter("USD").money(Decimal("-0.001")) == "$0.00"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_a_stored_amount_reads_back_in_the_canonical_form_of_its_exact_value(count: int) -> None:
    read = from_stored(count)
    exact = Decimal(count) / 1000
    assert read == exact and str(read) == str(canonical(exact))
