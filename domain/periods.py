"""Calendar days in the business time zone, turned into UTC instants for queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def today(zone: ZoneInfo, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(zone).date()


def start_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def day_range(
    start: date | None, end: date | None, zone: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """[start 00:00, the day after end 00:00) in `zone`, as UTC; whole days on both ends."""
    lower = start_of_day(start, zone) if start else None
    upper = start_of_day(end + timedelta(days=1), zone) if end else None
    return lower, upper
