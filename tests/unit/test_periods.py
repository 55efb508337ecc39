"""Billing periods and calendar days come from the clock's "now", never the machine's."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.errors import InvalidInput
from domain.model.periods import (
    Period,
    day_range,
    ensure_due_in_period,
    local_day,
    month_begins,
    month_key,
    next_month,
    resolve_period,
)

SYDNEY = ZoneInfo("Australia/Sydney")


def test_the_default_period_is_the_last_fourteen_days_to_today() -> None:
    assert resolve_period(date(2025, 3, 1), None, None) == Period(
        date(2025, 2, 15), date(2025, 3, 1)
    )
    assert resolve_period(date(2025, 3, 1), date(2025, 1, 1), None) == Period(
        date(2025, 1, 1), date(2025, 3, 1)
    )


def test_today_is_the_business_zones_day_a_minute_before_and_after_midnight() -> None:
    before = datetime(2025, 1, 31, 12, 59, tzinfo=UTC)  # 23:59 in Sydney
    after = datetime(2025, 1, 31, 13, 1, tzinfo=UTC)  # 00:01 on 1 February in Sydney
    assert local_day(before, SYDNEY) == date(2025, 1, 31)
    assert local_day(after, SYDNEY) == date(2025, 2, 1)
    assert month_key(before, SYDNEY) == 202501 and month_key(after, SYDNEY) == 202502


def test_a_backwards_period_or_an_early_due_date_is_refused() -> None:
    with pytest.raises(InvalidInput) as backwards:
        resolve_period(date(2025, 3, 1), date(2025, 2, 2), date(2025, 2, 1))
    assert backwards.value.field == "start_date"
    with pytest.raises(InvalidInput) as early:
        ensure_due_in_period(date(2025, 1, 31), Period(date(2025, 2, 1), date(2025, 2, 28)))
    assert early.value.field == "due_date"


def test_a_day_range_covers_whole_local_days_as_utc_instants() -> None:
    lower, upper = day_range(date(2025, 1, 1), date(2025, 1, 31), SYDNEY)
    assert lower == datetime(2024, 12, 31, 13, tzinfo=UTC)
    assert upper == datetime(2025, 1, 31, 13, tzinfo=UTC)
    assert day_range(None, None, SYDNEY) == (None, None)


@pytest.mark.parametrize(
    ("zone", "key", "begins"),
    [
        ("UTC", 202611, datetime(2026, 11, 1, tzinfo=UTC)),
        ("Europe/Madrid", 202611, datetime(2026, 10, 31, 23, tzinfo=UTC)),
        ("Asia/Kathmandu", 202603, datetime(2026, 2, 28, 18, 15, tzinfo=UTC)),
        # Clocks back at 1:00 that night: the first of the two midnights-to-one.
        ("America/Havana", 202611, datetime(2026, 11, 1, 4, tzinfo=UTC)),
        # Clocks back across midnight (0:01 to 23:01 the day before): November began, then
        # for an hour it was October again. No single instant starts the month.
        ("America/St_Johns", 200911, None),
    ],
)
def test_a_month_begins_at_one_instant_or_none(
    zone: str, key: int, begins: datetime | None
) -> None:
    assert month_begins(key, ZoneInfo(zone)) == begins


def test_the_month_after_december_is_january() -> None:
    assert (next_month(202512), next_month(202611)) == (202601, 202612)
