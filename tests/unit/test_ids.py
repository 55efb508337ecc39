import pytest

from graph.ids import parse_id


@pytest.mark.parametrize(
    ("given", "expected"),
    [("42", 42), (" 7 ", 7), ("³", None), ("٣", None), ("-1", None), ("1" * 19, None), ("", None)],
)
def test_only_plain_ascii_digits_name_a_row(given: str, expected: int | None) -> None:
    assert parse_id(given) == expected
