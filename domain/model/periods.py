"""Calendar days in the business time zone, billing periods, and the UTC instants that
bound them in queries. "Now" always comes in as an argument (the injected clock)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from domain.errors import InvalidInput

DEFAULT_PERIOD_DAYS = 14
# The days the service accepts from anyone: wide enough for any real invoice, narrow
# enough that a period's bounds (the day after its end, in any time zone) always exist.
EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(2100, 12, 31)


def supported_day(day: date) -> date:
    """`day` itself, or ValueError when it lies outside EARLIEST_DAY..LATEST_DAY."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(
            f"{day.isoformat()} is out of range: dates must be between "
            f"{EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}"
        )
    return day


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def __str__(self) -> str:
        return f"{self.start.isoformat()} - {self.end.isoformat()}"


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _within(field: str, day: date | None) -> None:
    try:
        if day is not None:
            supported_day(day)
    except ValueError as error:
        raise InvalidInput(field, f"{field.replace('_', ' ').capitalize()}: {error}.") from None


def resolve_period(today: date, start: date | None, end: date | None) -> Period:
    """The billing period with the specification's defaults: the last 14 days to today."""
    _within("start_date", start)
    _within("end_date", end)
    period = Period(start or today - timedelta(days=DEFAULT_PERIOD_DAYS), end or today)
    if period.start > period.end:
        raise InvalidInput("start_date", "The start date must not be after the end date.")
    return period


def ensure_due_in_period(due: date, period: Period) -> None:
    _within("due_date", due)
    if due < period.start:
        raise InvalidInput("due_date", "The due date must not be before the start date.")


def start_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def day_range(
    start: date | None, end: date | None, zone: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """[start 00:00, the day after end 00:00) in `zone`, as UTC; whole days on both ends."""
    lower = start_of_day(start, zone) if start else None
    upper = start_of_day(end + timedelta(days=1), zone) if end else None
    return lower, upper


def month_key(moment: datetime, zone: ZoneInfo) -> int:
    """The month `moment` falls in, in `zone`, as 202501: an invoice's stats bucket."""
    local = moment.astimezone(zone)
    return local.year * 100 + local.month


def month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


# A deep page asks for its month's bounds on every request (queries/invoices.py), and
# finding them walks the zone's transitions about fifteen times: 0.05 ms a page.
@lru_cache(maxsize=4096)
def month_begins(key: int, zone: ZoneInfo) -> datetime | None:
    """The instant month `key` (202501) begins in `zone`, in UTC: every moment from it on
    falls in that month or later (month_key), every moment before it earlier. None where
    the zone's clocks went back across that midnight, so that the months do not follow
    one another in time there (no such instant)."""
    year, month = divmod(key, 100)
    # A local midnight that did not happen (clocks forward at midnight) maps, fold 0, to
    # the instant the clocks moved: the month's first.
    begins = start_of_day(date(year, month, 1), zone)
    before = begins - timedelta(microseconds=1)
    # Clocks turned back within a few hours of the start would take a moment after it
    # into the month before.
    after = (begins + timedelta(minutes=15 * step) for step in range(1, 13))
    if month_key(begins, zone) != key or month_key(before, zone) >= key:
        return None
    if any(month_key(moment, zone) < key for moment in after):
        return None
    return begins


def next_month(key: int) -> int:
    """The month after `key` (202512 -> 202601)."""
    year, month = divmod(key, 100)
    return (year + 1) * 100 + 1 if month == 12 else key + 1
