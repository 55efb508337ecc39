import pytest

from graph.ids import parse_id


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("42", 42),
        (" 7 ", 7),
        ("³", None),
        ("٣", None),
        ("-1", None),
        ("0", None),
        ("", None),
        # As far as a 64-bit integer column reaches, and no further.
        ("9223372036854775807", 9223372036854775807),
        ("9223372036854775808", None),
        ("1" * 20, None),
        ("1" * 10_000, None),
    ],
)
def test_only_plain_ascii_digits_name_a_row(given: str, expected: int | None) -> None:
    assert parse_id(given) == expected
