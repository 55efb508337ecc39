"""One formatter for money and dates, per locale: what a PDF, an email and a widget print."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.model.formatting import Formatter
from domain.model.money import minor_digits, round_money, to_minor_units


@pytest.mark.parametrize(
    ("locale", "shown"),
    [
        ("en", "$1,234.50"),
        ("es", "1.234,50\xa0US$"),
        ("de", "1.234,50\xa0$"),
        ("fr", "1\u202f234,50\xa0$US"),
    ],
)
def test_money_reads_as_the_customers_language_writes_it(locale: str, shown: str) -> None:
    assert Formatter("USD", locale).money(Decimal("1234.5")) == shown


@pytest.mark.parametrize(
    ("currency", "locale", "amount", "shown"),
    [
        ("EUR", "en", "1234.5", "€1,234.50"),
        ("EUR", "es", "1234.5", "1.234,50\xa0€"),
        ("JPY", "en", "1650", "¥1,650"),
        ("KWD", "en", "12.345", "KWD\xa012.345"),
        ("KWD", "es", "12.345", "12,345\xa0KWD"),
    ],
)
def test_each_currency_shows_its_own_symbol_and_minor_unit(
    currency: str, locale: str, amount: str, shown: str
) -> None:
    assert Formatter(currency, locale).money(Decimal(amount)) == shown


def test_money_keeps_the_currencys_minor_unit() -> None:
    assert minor_digits("USD") == 2 and minor_digits("JPY") == 0 and minor_digits("KWD") == 3
    assert Formatter("JPY").money(Decimal("1234.5")) == "¥1,235"
    assert Formatter("EUR", "es").money(Decimal("-5")) == "-5,00\xa0€"
    assert to_minor_units(Decimal("12.345"), "KWD") == 12345
    assert to_minor_units(Decimal("12.34"), "USD") == 1234
    assert to_minor_units(Decimal("1234"), "JPY") == 1234
    assert round_money(Decimal("0.125"), "USD") == Decimal("0.13")


def test_an_unknown_language_falls_back_to_english_rather_than_failing() -> None:
    assert Formatter("USD", "zz").money(Decimal("1234.5")) == "$1,234.50"
    assert Formatter("USD", "zz").long_date(date(2025, 1, 10)) == "January 10, 2025"


def test_dates_are_long_and_localized() -> None:
    assert Formatter("USD", "en").long_date(date(2025, 1, 10)) == "January 10, 2025"
    assert Formatter("USD", "es").long_date(date(2025, 1, 10)) == "10 de enero de 2025"
    moment = datetime(2025, 1, 10, 23, tzinfo=UTC)
    assert Formatter("USD", "es").long_date(moment) == "10 de enero de 2025"
    assert Formatter("USD").long_date("2025-02-01T00:00:00") == "February 1, 2025"
    assert Formatter("USD").long_date(None) == ""


def test_compact_amounts_use_the_locales_decimal_mark() -> None:
    assert Formatter("USD", "es").compact(Decimal("1500")) == "1,5k\xa0US$"
    assert Formatter("EUR", "es").compact(Decimal("-1500")) == "-1,5k\xa0€"
    assert Formatter("USD", "en").compact(Decimal("2300000")) == "$2.3M"


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("950", "$950.00"),
        ("999.99", "$999.99"),
        ("999.995", "$1.0k"),
        ("1000", "$1.0k"),
        ("999949.99", "$999.9k"),
        ("999999.99", "$1.0M"),
        ("999999999.99", "$1.0B"),
        ("-999999.99", "-$1.0M"),
        ("2500000000000", "$2500.0B"),
    ],
)
def test_compact_amounts_round_into_the_next_unit_at_every_boundary(
    amount: str, shown: str
) -> None:
    assert Formatter("USD").compact(Decimal(amount)) == shown


def test_counts_read_as_english_says_them() -> None:
    from domain.model.texts import counted

    assert [counted(n, "invoice") for n in (0, 1, 2)] == ["0 invoices", "1 invoice", "2 invoices"]
    assert counted(1, "transaction") == "1 transaction"


def test_search_folds_case_and_accents_as_mariadbs_collation_does() -> None:
    from domain.model.folding import fold

    assert {fold(w) for w in ("Café", "CAFÉ", "cafe", "café")} == {"cafe"}
    assert fold("Ñandú Zoë Crème brûlée") == "nandu zoe creme brulee"
    assert fold("東京") == "東京"  # scripts without case or accents stay as they are
