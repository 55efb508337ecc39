"""A clock the tests can stop: the real time until pinned, then the pinned instant."""

from __future__ import annotations

from datetime import UTC, datetime


class PinnableClock:
    def __init__(self) -> None:
        self._pinned: datetime | None = None

    def now(self) -> datetime:
        return self._pinned or datetime.now(UTC)

    def pin(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("pin an aware datetime")
        self._pinned = moment

    def unpin(self) -> None:
        self._pinned = None
